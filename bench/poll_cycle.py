"""Benchmark 1: one poll cycle over N feeds served by nginx on loopback, cold (all 200) and warm (all 304).

The monitor (`monitor.once.run_once`: fetch concurrently, parse, store, match, outbox) is compared
with a naive sequential `httpx.get` + `feedparser.parse` loop over the same feeds, in the same run.
The cold cycle runs twice on empty databases: with the `workers` setting given (default `auto`: one
worker process per core) and in the service process alone (`workers: 0`, the config default).
The naive loop runs on an evenly spread sample of the feeds and is scaled linearly to N (it is
sequential, so its time is proportional to the number of feeds).

    python bench/poll_cycle.py [--feeds 1000] [--sample 100] [--rate 64k] [--warm 3] [--workers auto]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path

import feedparser
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Farm, Measure, machine, measured, register_null_notifier, table, verdict, write_config
from monitor.config import Settings, load
from monitor.once import OnceResult, run_once
from monitor.workers import worker_count

COLD_TARGET = 10.0  # cold cycle: at least this many times the naive loop's feeds/s
WARM_TARGET = 2.0  # warm cycle: at most this many CPU seconds per 1,000 feeds


def naive_loop(urls: list[str]) -> tuple[Measure, int]:
    """Fetch and parse each feed in turn, as a first script would; returns the time and the entries seen."""
    entries = 0
    with measured() as spent:
        for url in urls:
            response = httpx.get(url, timeout=30)
            response.raise_for_status()
            entries += len(feedparser.parse(response.content).entries)
    return spent, entries


def monitor_cycle(settings: Settings) -> tuple[Measure, OnceResult]:
    """One full pass of the monitor over every source (alerts go to a silent notifier)."""
    with measured() as spent:
        result = asyncio.run(run_once(settings))
    return spent, result


def spread_sample(urls: list[str], size: int) -> list[str]:
    """`size` URLs spread evenly over the list (so over every loopback host)."""
    size = max(1, min(size, len(urls)))
    step = len(urls) / size
    return [urls[int(i * step)] for i in range(size)]


def row(name: str, feeds: int, spent: Measure, scale: float = 1.0) -> list[object]:
    wall, cpu = spent.wall * scale, spent.cpu * scale
    return [name, feeds, wall, feeds / wall, cpu, cpu * 1000 / feeds]


def check(label: str, result: OnceResult, want_status: int, feeds: int) -> str:
    hits = sum(r.status == want_status for r in result.reports)
    items = sum(r.items for r in result.reports)
    return (
        f"{label}: {hits}/{feeds} sources answered {want_status}, {len(result.failed)} failed, "
        f"{items:,} items parsed, {len(result.alerts):,} alerts"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000, help="feeds in the farm (default 1000)")
    parser.add_argument("--sample", type=int, default=100, help="feeds the naive loop fetches (default 100)")
    parser.add_argument("--rate", default="64k", help="nginx limit_rate per response; 0 = unthrottled (default 64k)")
    parser.add_argument(
        "--warm",
        type=int,
        default=3,
        help="warm passes; the median of those where all answered 304 is reported (default 3)",
    )
    parser.add_argument("--workers", default="auto", help="the monitor's `workers` setting (default auto)")
    args = parser.parse_args(argv)
    workers: int | str = int(args.workers) if args.workers.isdigit() else args.workers

    register_null_notifier()
    print(f"poll-cycle benchmark — {machine()}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp,
        Farm(args.feeds, args.rate) as farm,
    ):
        urls = farm.urls()
        sample = spread_sample(urls, args.sample)
        print(f"farm: {len(urls)} feeds of 25 items (~16 KB), nginx limit_rate {args.rate}, 50 loopback hosts")

        naive, entries = naive_loop(sample)
        print(
            f"naive loop: {len(sample)} feeds, {entries:,} entries in {naive.wall:.1f} s (scaled to {len(urls)} below)"
        )

        settings = load(write_config(Path(tmp) / "config", urls, workers=workers))
        alone = load(write_config(Path(tmp) / "alone", urls, workers=0))
        with contextlib.redirect_stdout(sys.stderr):
            cold, cold_result = monitor_cycle(settings)
            warm_runs = [monitor_cycle(settings) for _ in range(max(1, args.warm))]
            cold_alone, alone_result = monitor_cycle(alone)
        print(check("cold", cold_result, 200, len(urls)))
        print(check("cold, workers 0", alone_result, 200, len(urls)))
        for i, (_, result) in enumerate(warm_runs, 1):
            print(check(f"warm #{i}", result, 304, len(urls)))

    # Passes in which every source answered 304 (a source that failed cold is fetched in full the next time).
    clean = [m for m, result in warm_runs if all(r.status == 304 for r in result.reports)] or [m for m, _ in warm_runs]
    warm = Measure(wall=statistics.median(m.wall for m in clean), cpu=statistics.median(m.cpu for m in clean))
    scale = len(urls) / len(sample)
    fetch = settings.monitor.fetch
    print()
    print(
        table(
            ["run", "feeds", "wall s", "feeds/s", "CPU s", "CPU s / 1000 feeds"],
            [
                row(f"naive loop (measured on {len(sample)}, x{scale:g})", len(urls), naive, scale),
                row(f"monitor cold (all 200), workers {workers} ({worker_count(workers)})", len(urls), cold),
                row("monitor cold (all 200), workers 0 (in-process)", len(urls), cold_alone),
                row(f"monitor warm (304, median of {len(clean)} of {len(warm_runs)} passes)", len(urls), warm),
            ],
        )
    )
    speedup = naive.wall * scale / cold.wall
    warm_cpu = warm.cpu * 1000 / len(urls)
    print()
    print(f"monitor fetch limits: {fetch.max_connections} connections, {fetch.per_host} per host")
    print(f"in-process cold cycle: {naive.wall * scale / cold_alone.wall:.1f}x the naive loop's feeds/s")
    cold_met, warm_met = verdict(speedup >= COLD_TARGET), verdict(warm_cpu <= WARM_TARGET)
    print(f"cold cycle: {speedup:.1f}x the naive loop's feeds/s (target ≥ {COLD_TARGET:g}x: {cold_met})")
    print(f"warm cycle: {warm_cpu:.2f} CPU s per 1,000 feeds (target ≤ {WARM_TARGET:g}: {warm_met})")
    print(f"warm cycle CPU vs the naive loop's: {naive.cpu * scale / warm.cpu:.1f}x less")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
