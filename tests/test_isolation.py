"""One malformed input stops nothing but itself: a JSON Feed nested too deeply for the parser is that source's
error (recorded, backed off, shown) while the other sources' alerts are delivered, in `monitor once` and in a
running service; a watch list nested too deeply is a rejected reload, and the watcher applies the next edit;
a background task that dies is restarted and logged."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.notify import dispatch_forever
from monitor.retry import supervise
from monitor.service import Service
from tests.testdata import seed_source, write_config

from .process import free_port, run_logged
from .test_clear_errors import monitor, one_error_line
from .test_health import sample

NESTING = 100_000  # far deeper than Python's JSON parser can go
DEEP_FEED = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * NESTING + b"]" * NESTING + b"}"
BACKOFF_BASE, BACKOFF_CAP = 2.0, 8.0
DEEP_INTERVAL = 0.5
RUN_SECONDS = 12.0


def deep_query(levels: int) -> str:
    """A watch list whose query is nested `levels` deep."""
    return "name: ceasefire\nqueries: ['" + "(" * levels + "ceasefire" + ")" * levels + "']\n"


def deep_yaml(levels: int) -> str:
    """A watch list whose YAML is nested `levels` deep."""
    return "name: ceasefire\nqueries: [ceasefire]\nexamples: {match: [" + "{a: " * levels + "x" + "}" * levels + "]}\n"


@pytest.fixture(scope="module")
def site() -> Iterator[StaticSite]:
    with StaticSite({}) as server:
        server.routes = {**seed_routes(server.base), "/deep.json": (DEEP_FEED, "application/feed+json")}
        yield server


def sources(site: StaticSite) -> list[dict[str, object]]:
    good = {**seed_source(site, "good"), "interval": 1, "jitter": 0}
    return [good, {"name": "deep", "url": f"{site.base}/deep.json", "interval": DEEP_INTERVAL, "jitter": 0}]


def state(db: Path, name: str) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
    conn.close()
    assert row is not None, f"{name} has no recorded state"
    return dict(row)


def assert_backed_off(recorded: dict[str, Any]) -> None:
    """The source's error is recorded and its next poll waits at least the shortest backoff after it."""
    assert recorded["error_count"] >= 1 and "RecursionError" in recorded["last_error"]
    last_fetch, next_due = (datetime.fromisoformat(recorded[k]) for k in ("last_fetch", "next_due"))
    assert (next_due - last_fetch).total_seconds() >= min(BACKOFF_CAP, BACKOFF_BASE) / 2


def test_once_delivers_the_other_sources_alerts_and_names_the_bad_source(site: StaticSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, sources(site))
    done = monitor("once", "--quiet", "--config", str(config))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.count("[ALERT] ceasefire:") == 1  # the good source's alert was delivered
    assert any(line.startswith("deep: RecursionError") for line in done.stderr.splitlines())
    assert "2 source(s) polled, 1 failed" in done.stderr
    assert_backed_off(state(tmp_path / "db.sqlite3", "deep"))
    table = monitor("sources", "--wide", "--config", str(config)).stdout
    assert "RecursionError" in next(line for line in table.splitlines() if " deep " in line)


@dataclass
class Run:
    """What a `monitor run` left behind: its log events, its metrics, its exit code, and where it ran."""

    workdir: Path
    events: list[dict[str, Any]]
    metrics: str
    exit_code: int
    stdout: str


def logged(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `condition` (at most `timeout` s: the tests say what did not happen)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def messages(log: Path, text: str) -> list[str]:
    return [e["msg"] for e in logged(log) if text in e["msg"]]


@pytest.fixture(scope="module")
def run(site: StaticSite, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A service polling the good and the deep source, whose watch list is edited to two nestings too deep
    for a parser (a query, then the YAML itself), and then its config to a valid one with one more source."""
    workdir = tmp_path_factory.mktemp("isolation")
    path = write_config(workdir, sources(site))
    data = yaml.safe_load(path.read_text())
    port = free_port()
    data.update(health={"port": port}, reload={"interval": 0.2},
                fetch={"backoff_base": BACKOFF_BASE, "backoff_cap": BACKOFF_CAP})
    path.write_text(yaml.safe_dump(data))
    watchlist = workdir / "watchlists" / "ceasefire.yaml"
    good_watchlist = watchlist.read_text()
    log = workdir / "stderr.txt"
    began = time.monotonic()
    with run_logged(path, workdir) as proc:
        until(lambda: bool(messages(log, "monitor running")))
        watchlist.write_text(deep_query(300))
        until(lambda: len(messages(log, "reload rejected")) == 1)
        watchlist.write_text(deep_yaml(600))
        until(lambda: len(messages(log, "reload rejected")) == 2)
        watchlist.write_text(good_watchlist)
        data["sources"].append({"name": "extra", "url": f"{site.base}/bd24live.xml", "jitter": 0})
        path.write_text(yaml.safe_dump(data))
        until(lambda: site.hits.get("/bd24live.xml", 0) >= 1)
        time.sleep(max(0.0, RUN_SECONDS - (time.monotonic() - began)))
        assert proc.poll() is None, "the service died"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
    return Run(workdir, logged(log), metrics, code, (workdir / "stdout.txt").read_text(encoding="utf-8"))


def test_a_crashing_source_is_recorded_backed_off_and_shown_while_the_others_alert(site: StaticSite, run: Run) -> None:
    assert run.exit_code == 0
    assert run.stdout.count("[ALERT] ceasefire:") == 1  # the good source's story, delivered once
    polls = sum(sample(run.metrics, "monitor_polls_total", source="good", outcome=o) for o in ("ok", "not_modified"))
    assert polls >= RUN_SECONDS / 2  # every second, on schedule throughout
    assert_backed_off(state(run.workdir / "db.sqlite3", "deep"))
    assert sample(run.metrics, "monitor_poll_errors_total", source="deep", kind="crash") >= 2  # retried, later
    assert site.hits["/deep.json"] <= 6  # every 0.5 s without backoff: about 24
    crashes = [e for e in run.events if e["msg"].startswith("poll of deep crashed: RecursionError")]
    assert crashes and all(e["level"] == "ERROR" for e in crashes)
    table = monitor("sources", "--wide", "--config", str(run.workdir / "monitor.yaml")).stdout
    assert "RecursionError" in next(line for line in table.splitlines() if " deep " in line)


def test_a_watch_list_nested_too_deeply_is_rejected_and_the_next_edit_applies(run: Run) -> None:
    rejected = [e["msg"] for e in run.events if "reload rejected" in e["msg"]]
    assert len(rejected) == 2
    assert "query nested deeper than 50 levels" in rejected[0]
    assert "nested too deeply" in rejected[1]
    assert any(e["msg"].startswith("config reloaded: 1 sources added") for e in run.events)
    expected = ("reload rejected", "poll of deep crashed")
    assert not [e for e in run.events if e["level"] == "ERROR" and not any(x in e["msg"] for x in expected)]


def test_check_config_says_what_is_nested_too_deeply(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    watchlist = tmp_path / "watchlists" / "ceasefire.yaml"
    for content, says in ((deep_query(300), "queries[0]: query nested deeper than 50 levels at position 50"),
                          (deep_yaml(600), "not valid YAML: nested too deeply")):
        watchlist.write_text(content)
        line = one_error_line(monitor("check-config", "--config", str(config)))
        assert line.startswith(f"error: {watchlist}: {says}")


def test_a_background_task_that_dies_is_restarted_and_logged(
    site: StaticSite, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, [{**seed_source(site), "interval": 60}])
    data = yaml.safe_load(path.read_text())
    data.update(health={"enabled": False}, reload={"interval": 0.05})
    path.write_text(yaml.safe_dump(data))
    service = Service(config_mod.load(path))
    reload, calls = service.reload, []

    def reload_that_breaks_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in reloading")
        return reload()

    monkeypatch.setattr(service, "reload", reload_that_breaks_once)

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        await asyncio.sleep(0.5)
        path.write_text(path.read_text() + "\n# first edit\n")  # the reload raises: the watcher dies
        for _ in range(100):
            await asyncio.sleep(0.05)
            if calls:
                break
        await asyncio.sleep(2.0)  # restarted after its pause
        data["sources"][0]["interval"] = 30
        path.write_text(yaml.safe_dump(data))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if service.settings.monitor.sources[0].interval == 30:
                break
        service.stop()
        await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    assert len(calls) == 2 and service.settings.monitor.sources[0].interval == 30
    died = [r for r in caplog.records if "background task config watcher died" in r.getMessage()]
    assert len(died) == 1 and died[0].levelno == logging.ERROR and died[0].exc_info is not None


def test_supervise_restarts_a_dying_job_until_it_returns() -> None:
    runs: list[int] = []

    async def job() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ValueError("dies")

    asyncio.run(supervise("job", job, pause=0.01))
    assert len(runs) == 3


def test_a_dispatcher_that_dies_is_restarted_and_delivers(
    site: StaticSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, [{**seed_source(site), "interval": 60, "jitter": 0}])
    data = yaml.safe_load(path.read_text())
    data.update(health={"enabled": False}, reload={"watch": False})
    path.write_text(yaml.safe_dump(data))
    service = Service(config_mod.load(path))
    starts: list[int] = []

    async def dispatcher_that_dies_once(*args: Any, **kwargs: Any) -> None:
        starts.append(1)
        if len(starts) == 1:
            raise RuntimeError("a bug in the dispatcher")
        await dispatch_forever(*args, **kwargs)

    monkeypatch.setattr("monitor.service.dispatch_forever", dispatcher_that_dies_once)

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if service.store.outbox_depth() == 0 and service.health.polls:
                break
        delivered_while_running = service.health.polls and service.store.outbox_depth() == 0
        service.stop()
        await asyncio.wait_for(task, 10)
        assert delivered_while_running  # by the restarted dispatcher, not by the drain before exit

    asyncio.run(scenario())
    assert len(starts) == 2
    assert capsys.readouterr().out.count("[ALERT] ceasefire:") == 1
