"""Hostile sources: 27 misbehaving feeds polled together with a good one by a real `monitor run` process.

For every behaviour: the process keeps running and stays within a memory bound, the good source keeps
its schedule and every one of its alerts is delivered exactly once, each failure is visible in the
source state, in `monitor sources` and in /metrics, and failing sources back off.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from monitor.records import DISABLED_UNTIL
from monitor.workers import MAX_TEXT_CHARS

from .hostile import HOSTILE, XXE_SECRET, HostileServer
from .process import run_logged, write_config
from .test_health import sample
from .testdata import REPO

RUN_SECONDS = 14.0
GOOD_INTERVAL = 1.0
MEMORY_LIMIT_MB = 400
BACKOFF_BASE = 2.0
BACKOFF_CAP = 8.0


@dataclass
class Outcome:
    """What one run of the service against the hostile server left behind."""

    server: HostileServer
    workdir: Path
    metrics: str
    health: httpx.Response
    peak_rss_mb: float
    exit_code: int
    stdout: str
    sources_table: str

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.workdir / "db.sqlite3")

    def state(self, name: str) -> dict[str, object]:
        conn = self.db()
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        conn.close()
        assert row is not None, f"{name} was never polled"
        return dict(row)


def hostile_config(workdir: Path, server: HostileServer) -> tuple[Path, int]:
    """Every hostile source polled every 2 s and the good one every `GOOD_INTERVAL` s, with tight fetch limits."""
    sources = [{"name": b.name, "url": server.url(b.name), "interval": 2, "jitter": 0} for b in HOSTILE]
    sources.append({"name": "good", "url": server.url("good"), "interval": GOOD_INTERVAL, "jitter": 0})
    fetch = {"per_host": 40, "connect_timeout": 3, "read_timeout": 2, "total_timeout": 4, "max_bytes": 8_000_000,
             "backoff_base": BACKOFF_BASE, "backoff_cap": BACKOFF_CAP}
    return write_config(workdir, sources, schedule={"misfire_grace": 30}, fetch=fetch)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_service(workdir: Path, server: HostileServer) -> Outcome:
    config, port = hostile_config(workdir, server)
    with run_logged(config, workdir) as proc:
        time.sleep(RUN_SECONDS)
        assert proc.poll() is None, "the service died"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            metrics, health = client.get("/metrics").text, client.get("/healthz")
        peak = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    table = subprocess.run(
        [sys.executable, "-m", "monitor", "sources", "--wide", "--config", str(config)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "250"}, check=True,
    ).stdout
    stdout = (workdir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    return Outcome(server, workdir, metrics, health, peak, code, stdout, table)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    workdir = tmp_path_factory.mktemp("hostile")
    secret = workdir / "secret.txt"
    secret.write_text(XXE_SECRET)
    with HostileServer(str(secret)) as server:
        yield run_service(workdir, server)


def test_the_service_survives_within_a_memory_bound_and_stops_cleanly(outcome: Outcome) -> None:
    assert outcome.exit_code == 0
    assert outcome.peak_rss_mb < MEMORY_LIMIT_MB
    assert outcome.health.status_code == 200, outcome.health.text
    log = (outcome.workdir / "stderr.txt").read_text()
    events = [json.loads(line) for line in log.splitlines()]  # JSON logs: one object per line
    assert not [e for e in events if e["level"] == "ERROR" and "crashed" in e["msg"]]


def test_the_good_source_keeps_its_schedule_and_every_alert_arrives_once(outcome: Outcome) -> None:
    polls = sample(outcome.metrics, "monitor_polls_total", source="good", outcome="ok")
    assert polls >= (RUN_SECONDS - 4) / GOOD_INTERVAL / 2  # on schedule despite the others (start-up aside)
    alerted = [line for line in outcome.stdout.splitlines() if line.startswith("[ALERT] ceasefire: Border clash")]
    assert len(alerted) == len(set(alerted)) >= polls - 2
    conn = outcome.db()
    owed = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'owed'").fetchone()[0]
    created = conn.execute("SELECT COUNT(*) FROM alerts WHERE source = 'good'").fetchone()[0]
    conn.close()
    assert owed == 0 and created == len(alerted)


@pytest.mark.parametrize("behaviour", [b for b in HOSTILE if b.error], ids=lambda b: b.name)
def test_each_failure_is_visible_and_backs_off(outcome: Outcome, behaviour: object) -> None:
    from .hostile import Behaviour

    assert isinstance(behaviour, Behaviour)
    name = behaviour.name
    state = outcome.state(name)
    assert state["error_count"] and state["last_error"]
    assert sample(outcome.metrics, "monitor_poll_errors_total", source=name) >= 1
    assert sample(outcome.metrics, "monitor_source_consecutive_errors", source=name) >= 1
    row = next(line for line in outcome.sources_table.splitlines() if f" {name} " in line)
    assert str(state["last_error"])[:20] in row
    last_fetch, next_due = (datetime.fromisoformat(str(state[k])) for k in ("last_fetch", "next_due"))
    errors = int(str(state["error_count"]))
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (errors - 1)) / 2  # the shortest delay after that many errors
    assert (next_due - last_fetch).total_seconds() >= max(behaviour.retry_after or 0, backoff)
    assert errors >= 2 or name in ("410", "hang", "drip")  # retried, later each time (410: never again)


def test_410_disables_the_source(outcome: Outcome) -> None:
    state = outcome.state("410")
    assert datetime.fromisoformat(str(state["next_due"])) == DISABLED_UNTIL
    assert "disabled" in str(state["last_error"])
    assert outcome.server.hits["410"] == 1
    assert sample(outcome.metrics, "monitor_source_disabled", source="410") == 1


@pytest.mark.parametrize("behaviour", [b for b in HOSTILE if not b.error], ids=lambda b: b.name)
def test_bad_but_readable_feeds_are_read_without_error(outcome: Outcome, behaviour: object) -> None:
    from .hostile import Behaviour

    assert isinstance(behaviour, Behaviour)
    if behaviour.name == "10k-items":  # its first poll stores ~1,000 new items a second: still at it, no error
        assert len(titles(outcome, "10k-items")) >= 1000
        assert sample(outcome.metrics, "monitor_polls_total", source="10k-items", outcome="error") == 0
        return
    state = outcome.state(behaviour.name)
    assert state["last_success"] is not None and titles(outcome, behaviour.name)  # read (a later poll may time out)
    assert sample(outcome.metrics, "monitor_poll_errors_total", source=behaviour.name, kind="parse") == 0


def titles(outcome: Outcome, source: str) -> list[str]:
    conn = outcome.db()
    rows = conn.execute("SELECT title FROM articles WHERE source = ? ORDER BY title", (source,)).fetchall()
    conn.close()
    return [r[0] for r in rows]


def test_entities_are_never_expanded_nor_resolved(outcome: Outcome) -> None:
    assert outcome.server.hits["secret"] == 0
    conn = outcome.db()
    texts = conn.execute("SELECT title || text FROM articles WHERE source IN ('external-entities', 'billion-laughs')")
    assert all(XXE_SECRET not in t and len(t) < 1000 for (t,) in texts)
    conn.close()


def test_encodings_big_feeds_duplicates_and_odd_dates(outcome: Outcome) -> None:
    assert titles(outcome, "wrong-charset") == ["Перемирие нарушено"]
    assert titles(outcome, "invalid-utf8")[0].startswith("Перемирие")
    many = titles(outcome, "10k-items")
    assert len(many) == len(set(many)) and all(t.startswith("Market report ") for t in many)
    assert titles(outcome, "truncated") == ["Whole item"]
    conn = outcome.db()
    (fat,) = conn.execute("SELECT length(text) FROM articles WHERE source = '5mb-description'").fetchone()
    dup_alerts = conn.execute("SELECT COUNT(*) FROM alerts WHERE source = 'duplicate-guids'").fetchone()[0]
    dates = dict(conn.execute("SELECT title, published FROM articles WHERE source = 'dates'").fetchall())
    conn.close()
    assert fat == MAX_TEXT_CHARS  # cut, so matching it cannot stall the service
    assert len(titles(outcome, "duplicate-guids")) == 1 and dup_alerts == 1
    assert dates["Truce talks from 1970"] is None
    assert dates["Truce talks from the future"] is not None
