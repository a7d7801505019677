"""Adaptive polling end to end: a real loopback HTTP server, the real pipeline and fetcher, real SQLite, and
`monitor sources`; the config's bounds and their errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor import config as config_mod
from monitor.cli import main
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.once import build_workers
from monitor.pipeline import Pipeline
from monitor.records import PollReport
from monitor.store.sqlite import SqliteStore
from tests.servers import LoopbackServer
from tests.testdata import write_config

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BOUNDS = {"interval_min": "1m", "interval_max": "1h"}


def rss(published: list[datetime], ttl: int | None = None) -> bytes:
    """An RSS feed with one item per date (newest first) and, when given, a channel `<ttl>` in minutes."""
    items = "".join(
        f"<item><title>Farmers report rain {n}</title><link>http://outlet.example/a/{when.timestamp():.0f}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>Rain fell in the valley.</description></item>"
        for n, when in enumerate(published)
    )
    channel_ttl = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title><link>http://outlet.example/</link>'
            f"{channel_ttl}<description>d</description>{items}</channel></rss>").encode()


def every(seconds: float, count: int) -> list[datetime]:
    """`count` dates `seconds` apart, the newest a minute before NOW."""
    return [NOW - timedelta(seconds=60 + i * seconds) for i in range(count)]


def poll(tmp_path: Path, server: LoopbackServer, source: dict[str, object]) -> PollReport:
    """One poll of `source` (its url a path on `server`) at NOW through the real pipeline, into the config's store."""
    path = write_config(tmp_path, [{"name": "outlet", "jitter": 0, **source, "url": server.url(str(source["url"]))}])
    settings = config_mod.load(path)
    store = SqliteStore(settings.db_path, clock=lambda: NOW)

    async def run() -> PollReport:
        async with Fetcher(settings.monitor.fetch) as fetcher:
            workers = build_workers(settings)
            try:
                pipeline = Pipeline(store, fetcher, workers, lambda: ["console"], settings.monitor.fetch)
                source_config = settings.monitor.sources[0]
                return await pipeline.poll(source_config, settings.source_bounds(source_config), NOW)
            finally:
                workers.close()

    try:
        report = asyncio.run(run())
        state = store.source_state("outlet")
    finally:
        store.close()
    assert report.next_poll == state.interval
    assert state.disabled or state.next_due == NOW + timedelta(seconds=state.interval or 0)
    return report


def state_of(tmp_path: Path) -> tuple[float | None, str | None]:
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        state = store.source_state("outlet")
    finally:
        store.close()
    return state.interval, state.interval_reason


@pytest.mark.parametrize(
    ("published", "bounds", "expected"),
    [
        (every(120, 25), BOUNDS, (144.0, "25 new in the last 1h")),  # one item every 2 minutes: 3600 s / 25
        (every(120, 25), {"interval_min": "5m"}, (300.0, "25 new in the last 1h (interval_min)")),
        (every(86400, 5), BOUNDS, (3600.0, "5 new in the last 1w (interval_max)")),  # one a day, one a minute ago
        (every(3 * 86400, 5), {"interval_max": "1d"}, (86400.0, "3 new in the last 1w (interval_max)")),
        (every(1800, 2), {"interval_max": "1d"}, (1800.0, "2 new in the last 1h")),  # two in an hour: busy
        ([NOW - timedelta(days=20), NOW - timedelta(days=30)], BOUNDS, (3600.0, "nothing new in 1w (interval_max)")),
        (every(120, 25), {"interval": "5m"}, (300.0, "fixed interval")),  # interval alone: fixed
    ],
)
def test_the_interval_follows_how_often_the_feed_publishes_within_the_bounds(
    tmp_path: Path,
    http_server: LoopbackServer,
    published: list[datetime],
    bounds: dict[str, str],
    expected: tuple[float, str],
) -> None:
    http_server.route("/feed.rss", rss(published))
    report = poll(tmp_path, http_server, {"url": "/feed.rss", **bounds})
    assert report.error is None and report.new == len(published)
    assert state_of(tmp_path) == expected


def test_new_items_of_later_polls_count_with_those_stored(tmp_path: Path, http_server: LoopbackServer) -> None:
    """The store's recent items count with the poll's new ones: the more a feed publishes, the more often it is
    polled."""
    recent = every(60, 10)
    http_server.route("/feed.rss", rss(recent[5:]))
    poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    assert state_of(tmp_path) == (720.0, "5 new in the last 1h")
    http_server.route("/feed.rss", rss(recent))
    report = poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    assert report.new == 5
    assert state_of(tmp_path) == (360.0, "10 new in the last 1h")


@pytest.mark.parametrize(
    ("headers", "ttl", "expected"),
    [
        ({"Cache-Control": "public, max-age=600"}, None, (600.0, "Cache-Control max-age 10m")),
        ({}, 30, (1800.0, "RSS ttl 30m")),
        ({"Cache-Control": "max-age=900"}, 20, (1200.0, "RSS ttl 20m")),  # the longer hint
        ({"Cache-Control": "max-age=86400"}, None, (3600.0, "Cache-Control max-age 1d (interval_max)")),
        ({"Cache-Control": "max-age=10"}, 1, (144.0, "25 new in the last 1h")),  # a hint never shortens
    ],
)
def test_max_age_and_ttl_lengthen_the_interval_up_to_interval_max(
    tmp_path: Path, http_server: LoopbackServer, headers: dict[str, str], ttl: int | None, expected: tuple[float, str]
) -> None:
    http_server.route("/feed.rss", rss(every(120, 25), ttl), headers=headers)
    poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    assert state_of(tmp_path) == expected


def test_a_hint_on_a_not_modified_answer_counts_too(tmp_path: Path, http_server: LoopbackServer) -> None:
    http_server.route("/feed.rss", rss(every(120, 25)), headers={"Cache-Control": "max-age=1200"})
    poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    report = poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    assert report.not_modified
    assert state_of(tmp_path) == (1200.0, "Cache-Control max-age 20m")


@pytest.mark.parametrize(
    ("retry_after", "bounds", "expected"),
    [
        ("900", BOUNDS, (900.0, "Retry-After 15m")),
        ("864000", BOUNDS, (6 * 3600.0, "Retry-After 6h")),  # ten days asked: fetch.backoff_cap, the longer bound
        ("864000", {"interval_min": "1m", "interval_max": "1d"}, (86400.0, "Retry-After 1d")),  # interval_max
        ("1", {"interval_min": "10m", "interval_max": "1h"}, (600.0, "backing off after 1 failure(s)")),
    ],
)
def test_retry_after_is_honoured_within_the_bounds(
    tmp_path: Path, http_server: LoopbackServer, retry_after: str, bounds: dict[str, str],
    expected: tuple[float, str],
) -> None:
    http_server.route("/feed.rss", b"busy", status=429, headers={"Retry-After": retry_after})
    report = poll(tmp_path, http_server, {"url": "/feed.rss", **bounds})
    assert report.status == 429 and report.error
    assert state_of(tmp_path) == expected


def test_monitor_sources_shows_the_interval_and_why(
    tmp_path: Path, http_server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.route("/feed.rss", rss(every(120, 25)))
    poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    capsys.readouterr()
    assert main(["sources", "--config", str(tmp_path / "monitor.yaml")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "outlet" in line)
    assert "2m24s" in row  # the interval now; why with --wide and in the source's own view
    assert main(["sources", "--wide", "--config", str(tmp_path / "monitor.yaml")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "outlet" in line)
    assert "2m24s" in row and "25 new in the last 1h" in row
    assert main(["sources", "outlet", "--config", str(tmp_path / "monitor.yaml")]) == 0
    assert "25 new in the last 1h" in capsys.readouterr().out


def test_monitor_sources_before_any_poll_shows_the_start_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, [{"name": "outlet", "url": "http://127.0.0.1:9/feed.rss", **BOUNDS}],
                        schedule={"interval": "10m"})
    assert main(["sources", "--config", str(path)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "outlet" in line)
    assert "10m" in row


def bounds_of(tmp_path: Path, source: dict[str, object], **schedule: object) -> tuple[float, float, float]:
    path = write_config(tmp_path, [{"name": "outlet", "url": "http://outlet.example/feed", **source}],
                        schedule=schedule)
    settings = config_mod.load(path)
    bounds = settings.source_bounds(settings.monitor.sources[0])
    return bounds.lo, bounds.hi, bounds.start


@pytest.mark.parametrize(
    ("source", "schedule", "expected"),
    [
        ({}, {}, (60, 3600, 300)),  # nothing set: the default bounds, starting at the default interval
        ({}, {"interval": "10m"}, (600, 600, 600)),  # an interval alone stays a fixed interval
        ({"interval": "2m"}, {"interval_min": "1m", "interval_max": "2h"}, (120, 120, 120)),  # the source's own
        ({}, {"interval": "10m", "interval_max": "2h"}, (60, 7200, 600)),
        ({"interval_max": "30m"}, {"interval": "10m", "interval_min": "2m"}, (120, 1800, 600)),  # one from each
        ({"interval_min": "20m", "interval": "5m"}, {}, (1200, 3600, 1200)),  # the start is within the bounds
    ],
)
def test_bounds_come_from_the_source_then_the_schedule_then_the_defaults(
    tmp_path: Path, source: dict[str, object], schedule: dict[str, object], expected: tuple[float, float, float]
) -> None:
    assert bounds_of(tmp_path, source, **schedule) == expected


@pytest.mark.parametrize(
    ("source", "schedule", "message"),
    [
        ({}, {"interval_min": "2h", "interval_max": "1h"}, "schedule: interval_min (2h) is above interval_max (1h)"),
        ({}, {"interval_min": "2h"}, "schedule: interval_min (2h) is above interval_max (1h)"),
        ({"interval_min": "10m"}, {"interval_max": "5m"},
         "sources[0] (outlet): interval_min (10m) is above interval_max (5m)"),
        ({"interval_max": "soon"}, {}, "sources[0].interval_max: Value error, expected a duration"),
        ({"interval": 0}, {}, "sources[0] (outlet): the polling interval (interval, interval_min) must be more than 0"),
        ({}, {"interval_min": 0}, "schedule: the polling interval (interval, interval_min) must be more than 0"),
    ],
)
def test_bounds_out_of_order_are_clear_config_errors(
    tmp_path: Path, source: dict[str, object], schedule: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        bounds_of(tmp_path, source, **schedule)
    assert message in str(caught.value)
    assert str(tmp_path / "monitor.yaml") in str(caught.value)


def test_a_source_gone_for_good_says_so_as_its_reason(tmp_path: Path, http_server: LoopbackServer) -> None:
    http_server.route("/feed.rss", b"", status=410)
    report = poll(tmp_path, http_server, {"url": "/feed.rss", **BOUNDS})
    assert report.status == 410
    assert state_of(tmp_path)[1] == "disabled: HTTP 410 Gone"
