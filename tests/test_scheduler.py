"""The scheduler runs each source's job again at the interval its last poll returned (APScheduler, real time),
alone and in the service."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from monitor import config as config_mod
from monitor.cadence import Bounds
from monitor.config import SourceConfig
from monitor.scheduler import Scheduler
from monitor.service import Service
from monitor.store.sqlite import SqliteStore
from tests.servers import LoopbackServer
from tests.testdata import write_config


def test_each_job_is_rescheduled_with_the_interval_its_poll_returned(tmp_path: Path) -> None:
    path = write_config(tmp_path, [
        {"name": "busy", "url": "http://busy.example/feed", "interval": "30s", "interval_min": 0.1, "jitter": 0},
        {"name": "quiet", "url": "http://quiet.example/feed", "interval": "30s", "interval_min": 0.1, "jitter": 0},
    ])
    settings = config_mod.load(path)
    polls: dict[str, list[float]] = {"busy": [], "quiet": []}
    answers = {"busy": 0.2, "quiet": None}  # quiet's poll keeps its 30 s interval

    async def poll(source: SourceConfig, bounds: Bounds) -> float | None:
        assert bounds == settings.source_bounds(source)
        polls[source.name].append(time.monotonic())
        return answers[source.name]

    async def run() -> Scheduler:
        scheduler = Scheduler(poll)
        scheduler.start(settings)
        await asyncio.sleep(1.3)
        scheduler.shutdown()
        return scheduler

    scheduler = asyncio.run(run())
    assert len(polls["quiet"]) == 1  # its first poll right after the start, the next one 30 s later
    assert 4 <= len(polls["busy"]) <= 8, polls["busy"]  # at 0 s, then every 0.2 s
    gaps = [b - a for a, b in zip(polls["busy"], polls["busy"][1:], strict=False)]
    assert all(0.15 < gap < 0.5 for gap in gaps), gaps
    assert scheduler.interval("busy") == 0.2 and scheduler.interval("quiet") == 30


def test_the_service_polls_a_quiet_feed_less_often_than_a_fixed_one(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    """The service's jobs take the interval each poll chose: a feed with nothing new in a week goes to its
    interval_max after its first poll; beside it, the same feed on a fixed interval is polled on."""
    old = "<item><title>Rain</title><link>http://o.example/1</link><pubDate>Sun, 01 Nov 2026 08:00:00 GMT</pubDate>"
    http_server.route("/quiet.rss", f"<rss><channel><title>q</title>{old}</item></channel></rss>".encode())
    http_server.route("/fixed.rss", f"<rss><channel><title>f</title>{old}</item></channel></rss>".encode())
    path = write_config(tmp_path, [
        {"name": "quiet", "url": http_server.url("/quiet.rss"), "interval": 0.3, "interval_min": 0.3,
         "interval_max": "1h", "jitter": 0},
        {"name": "fixed", "url": http_server.url("/fixed.rss"), "interval": 0.3, "jitter": 0},
    ], health={"enabled": False}, reload={"watch": False})
    service = Service(config_mod.load(path))

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        await asyncio.sleep(2.5)
        service.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert http_server.hits["/quiet.rss"] == 1
    assert http_server.hits["/fixed.rss"] >= 4
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        quiet = store.source_state("quiet")
    finally:
        store.close()
    assert (quiet.interval, quiet.interval_reason) == (3600, "nothing new in 1w (interval_max)")
