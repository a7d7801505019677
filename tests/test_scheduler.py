"""The scheduler runs each source's job again at the interval its last poll returned (APScheduler, real time)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from monitor import config as config_mod
from monitor.cadence import Bounds
from monitor.config import SourceConfig
from monitor.scheduler import Scheduler
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
