"""/healthz when nothing works, on real `monitor run` processes (issue 11, item 12): every source unreachable is
"degraded" and says why, once; a database that cannot be written or read is "fail" (503)."""

from __future__ import annotations

import os
import resource
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from monitor.health import NO_SOURCE_REACHABLE

from .process import MonitorProcess, free_port, write_config
from .servers import LoopbackServer
from .test_health import sample
from .testdata import FEEDS

RSS2 = (FEEDS / "real" / "nodefeedparser_rss2sample.xml").read_bytes()
PAGE = 4096


def status(service: MonitorProcess) -> int | None:
    """The /healthz status code; None when it does not answer."""
    try:
        return service.health().status_code
    except httpx.HTTPError:
        return None


def polls(service: MonitorProcess, source: str, outcome: str) -> float:
    return sample(service.metrics(), "monitor_polls_total", source=source, outcome=outcome)


def test_every_source_unreachable_is_degraded_and_says_why_once(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there: every connection is refused, as with no network
    sources: list[dict[str, object]] = [
        {"name": f"s{i}", "url": f"http://127.0.0.1:{closed}/{i}.xml", "interval": 0.3, "jitter": 0} for i in range(3)
    ]
    config, port = write_config(tmp_path, sources, fetch={"backoff_base": 0.2, "backoff_cap": 0.3})
    with MonitorProcess(config, port) as service:
        assert service.until(lambda: service.health().json()["status"] == "degraded", 10), service.health().text
        assert service.until(lambda: min(polls(service, f"s{i}", "error") for i in range(3)) >= 4, 10)
        health = service.health()
    body = health.json()
    assert health.status_code == 200 and body["reasons"] == [NO_SOURCE_REACHABLE] and body["sources_failing"] == 3
    assert NO_SOURCE_REACHABLE == "no source is reachable: check the network or DNS"
    logged = service.messages(NO_SOURCE_REACHABLE)
    assert len(logged) == 1 and logged[0]["level"] == "ERROR"  # once, not once per source or per poll


def unwritable(pid: int, db: Path) -> None:
    """Writes of the process fail as on a full disk: no file of it may grow past 1 KiB (RLIMIT_FSIZE)."""
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1024, 1024))


def damaged(pid: int, db: Path) -> None:
    """Every page of the file but the first (the header and the schema) overwritten with noise."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file; the others re-read it
    conn.close()
    size = db.stat().st_size
    with db.open("r+b") as file:
        file.seek(PAGE)
        file.write(os.urandom(size - PAGE))


@pytest.mark.parametrize("fault", [unwritable, damaged], ids=lambda f: f.__name__)
def test_a_database_that_fails_mid_run_fails_healthz(
    http_server: LoopbackServer, tmp_path: Path, fault: Callable[[int, Path], None]
) -> None:
    url = http_server.route("/feed.xml", RSS2)
    config, port = write_config(tmp_path, [{"name": "good", "url": url, "interval": 0.3, "jitter": 0}])
    with MonitorProcess(config, port) as service:
        assert service.until(lambda: polls(service, "good", "not_modified") >= 2, 10)
        assert status(service) == 200
        fault(service.pid, tmp_path / "db.sqlite3")
        assert service.until(lambda: status(service) == 503, 10), service.events[-3:]
        assert service.until(lambda: service.health().json()["sources_failing"] == 1, 5)  # its polls fail
        health = service.health()
        assert service.alive()
    body = health.json()
    assert body["status"] == "fail" and body["reasons"][0].startswith("the database fails"), body
    assert len(service.messages("the database fails")) == 1
    # and it stops cleanly: what it still owes stays in the store, said in one line, no traceback
    assert service.exit_code == 0, service.events[-5:]
    assert not [e for e in service.events if "Traceback" in str(e.get("msg", "")) or e.get("exc_info")], service.events
