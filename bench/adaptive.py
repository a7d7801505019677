"""Fixed versus adaptive polling on the feed farm: requests, alerts, requests per alert and alert latency.

A few feeds publish often (`--busy`, an item every `--busy-every` seconds on average) and the rest rarely
(every `--quiet-every`), as Poisson arrivals drawn once from `--seed`, so both runs see the same news. Both runs
poll the same nginx-served farm through the real pipeline (fetcher, parser, store, matcher): once with the fixed
`--fixed` interval, once adaptive within `--min`..`--max` (starting at `--fixed`).

The clock is simulated: a day of polling at a 5-minute interval would take a day of wall time. Events run in
time order: a publication rewrites its feed file (the item text from feedfarm.py's generator, one new item each
time; the file's mtime set to the simulated time, so nginx's ETag and Last-Modified change as on the web) and a
poll runs `Pipeline.poll(source, bounds, now)` with the store's clock at `now`, then comes again `next_poll`
seconds later, the interval the poll chose (what the scheduler runs the job with; jitter 0). Requests are the
feed fetches; alerts the ones on items published during the run; latency from an item's publication to the
poll that alerted on it. `feedfarm.py touch` is not used: it rewrites random feeds with items named after the
wall clock, where these runs need chosen feeds and simulated times.

    python bench/adaptive.py [--feeds 40] [--busy 4] [--hours 24] [--fixed 300] [--min 60] [--max 3600]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import importlib.util
import os
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import FEEDFARM, Farm, machine, measured, register_null_notifier, table, write_config

BACKLOG = 25  # items in each feed document


def farm_module() -> ModuleType:
    """feedfarm.py itself, for its item generator's word lists."""
    spec = importlib.util.spec_from_file_location("feedfarm", FEEDFARM)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class News:
    """The publications of every feed: (simulated seconds, item number) per feed, newest last."""

    gaps: list[float]  # mean seconds between items, per feed
    times: list[list[float]] = field(default_factory=list)

    @classmethod
    def draw(cls, gaps: list[float], hours: float, seed: int) -> News:
        rng = random.Random(seed)
        news = cls(gaps)
        for gap in gaps:
            t, times = 0.0, [-(BACKLOG - i) * gap for i in range(BACKLOG)]  # a backlog at the feed's own pace
            while (t := t + rng.expovariate(1 / gap)) < hours * 3600:
                times.append(t)
            news.times.append(times)
        return news


class Feeds:
    """Writes each feed's document as it stands at a moment of the run."""

    def __init__(self, root: Path, urls: list[str], epoch: datetime) -> None:
        self.farm = farm_module()
        self.paths = [root / url.rsplit("/", 1)[1] for url in urls]
        self.epoch = epoch

    def link(self, feed: int, n: int) -> str:
        return f"http://news{feed}.example/a/{n}"

    def write(self, feed: int, times: list[float], upto: int) -> None:
        """The feed with items `upto - BACKLOG` .. `upto - 1` of `times` (newest first), its mtime the newest's."""
        farm, items = self.farm, []
        for n in range(upto - 1, max(upto - BACKLOG, 0) - 1, -1):
            rng = random.Random(feed * 1_000_003 + n)  # an item reads the same in every document and run
            text = rng.choice(farm.CEASEFIRE) if rng.random() < 1 / 12 else rng.choice(farm.EVENTS)
            title = escape(f"{rng.choice(farm.SUBJECTS)} {text}")
            when = format_datetime(self.epoch + timedelta(seconds=times[n]))
            items.append(f"<item><title>{title}</title><link>{self.link(feed, n)}</link><guid>f{feed}-{n}</guid>"
                         f"<pubDate>{when}</pubDate><description>{title}.</description></item>")
        path = self.paths[feed]
        path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet {feed}'
                        f"</title><link>http://news{feed}.example/</link><description>d</description>"
                        f"{''.join(items)}</channel></rss>", encoding="utf-8")
        stamp = (self.epoch + timedelta(seconds=times[upto - 1])).timestamp()
        os.utime(path, (stamp, stamp))


@dataclass
class Outcome:
    requests: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"busy": [], "quiet": []})
    wall: float = 0.0


async def simulate(
    farm: Farm, urls: list[str], news: News, busy: int, hours: float, schedule: dict[str, Any], workdir: Path
) -> Outcome:
    """One run over the whole simulated time (see the module's docstring)."""
    from monitor.config import load
    from monitor.fetch import Fetcher
    from monitor.once import build_workers
    from monitor.pipeline import Pipeline
    from monitor.store.sqlite import SqliteStore

    epoch = datetime.now(UTC).replace(microsecond=0)
    feeds = Feeds(farm.root, urls, epoch)
    published: dict[str, tuple[float, str]] = {}  # link: (simulated time, busy or quiet)
    events: list[tuple[float, int, str, int, int]] = []  # (time, order, kind, feed, item)
    for feed, times in enumerate(news.times):
        feeds.write(feed, times, BACKLOG)
        for n in range(BACKLOG, len(times)):
            heapq.heappush(events, (times[n], len(events), "publish", feed, n))
            published[feeds.link(feed, n)] = (times[n], "busy" if feed < busy else "quiet")
        heapq.heappush(events, (feed * 0.1, len(events), "poll", feed, 0))  # first polls a moment apart
    settings = load(write_config(workdir, urls, schedule=schedule, notifiers=({"name": "null", "kind": "null"},)))
    now = epoch
    store = SqliteStore(settings.db_path, clock=lambda: now)
    sources = settings.monitor.sources
    outcome = Outcome()
    with measured() as took:
        async with Fetcher(settings.monitor.fetch) as fetcher:
            workers = build_workers(settings)
            pipeline = Pipeline(store, fetcher, workers, lambda: ["null"], settings.monitor.fetch)
            try:
                while events and events[0][0] < hours * 3600:
                    at, _, kind, feed, n = heapq.heappop(events)
                    if kind == "publish":
                        feeds.write(feed, news.times[feed], n + 1)
                        continue
                    now = epoch + timedelta(seconds=at)
                    source = sources[feed]
                    report = await pipeline.poll(source, settings.source_bounds(source), now)
                    outcome.requests += 1
                    for alert in report.alerts:
                        if alert.url in published:
                            when, group = published[alert.url]
                            outcome.latencies[group].append(at - when)
                    wait = report.next_poll or settings.source_interval(source)
                    heapq.heappush(events, (at + wait, len(events), "poll", feed, 0))
            finally:
                workers.close()
                store.close()
    outcome.wall = took.wall
    return outcome


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values or [0])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=40, help="feeds in the farm (default 40)")
    parser.add_argument("--busy", type=int, default=4, help="of which publish often (default 4)")
    parser.add_argument("--busy-every", type=float, default=120, help="mean seconds between their items (120)")
    parser.add_argument("--quiet-every", type=float, default=6 * 3600, help="the others' (default 21600)")
    parser.add_argument("--hours", type=float, default=24, help="simulated hours (default 24)")
    parser.add_argument("--fixed", type=float, default=300, help="the fixed interval, seconds (default 300)")
    parser.add_argument("--min", type=float, default=60, help="adaptive interval_min, seconds (default 60)")
    parser.add_argument("--max", type=float, default=3600, help="adaptive interval_max, seconds (default 3600)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    register_null_notifier()
    gaps = [args.busy_every] * args.busy + [args.quiet_every] * (args.feeds - args.busy)
    news = News.draw(gaps, args.hours, args.seed)
    runs = {
        f"fixed {args.fixed:g} s": {"interval": args.fixed, "jitter": 0},
        f"adaptive {args.min:g}-{args.max:g} s": {"interval": args.fixed, "interval_min": args.min,
                                                   "interval_max": args.max, "jitter": 0},
    }
    print(f"adaptive polling — {machine()}")
    print(f"{args.feeds} feeds ({args.busy} publishing every ~{args.busy_every:g} s, the rest every "
          f"~{args.quiet_every:g} s), {args.hours:g} simulated hours, seed {args.seed}")
    rows = []
    with Farm(args.feeds) as farm, tempfile.TemporaryDirectory() as tmp:
        urls = farm.urls()
        for name, schedule in runs.items():
            outcome = asyncio.run(simulate(farm, urls, news, args.busy, args.hours, schedule, Path(tmp) / name))
            every = outcome.latencies["busy"] + outcome.latencies["quiet"]
            alerts = len(every)
            rows.append([
                name, outcome.requests, alerts, outcome.requests / max(alerts, 1),
                percentile(every, 50), percentile(every, 95),
                percentile(outcome.latencies["busy"], 50), percentile(outcome.latencies["quiet"], 50),
                len(outcome.latencies["quiet"]), outcome.wall,
            ])
    print(table(["run", "requests", "alerts", "req/alert", "p50 s", "p95 s", "busy p50 s", "quiet p50 s",
                 "quiet alerts", "wall s"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
