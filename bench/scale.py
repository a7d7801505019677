"""The engine on PostgreSQL with 1, 2 and 4 processes against the single-process SQLite service, on the feed farm.

Each configuration polls the same nginx farm (`--feeds` feeds on 50 loopback addresses, throttled to `--rate` per
response so a feed takes about 250 ms, like a distant server) at a fixed `--interval` short enough that no
configuration keeps up: what it polls per second is what it can. PostgreSQL runs are `monitor run` plus
`processes - 1` `monitor worker`s (the run process polls too) on a fresh database of a throwaway cluster
(tests/postgres.py); SQLite is one `monitor run`. Once every feed has been polled twice on average (the first
poll reads each feed whole and analyses its 25 items) and `--warmup` seconds more, for `--seconds`:

- sources polled per second: the polls every process's /healthz counts (`polls`), over the window;
- CPU per 1,000 polls: user + system CPU of every monitor process (from /proc) over the window, per 1,000 polls
  (the farm, PostgreSQL and this script not counted);
- alert latency p95: every second `--touch` feeds get new items (feedfarm's generator; about one in twelve
  alerts); from that rewrite to the alert's creation. Under saturation it is dominated by the wait for the
  next poll of the feed (the farm divided by the throughput), so it follows throughput.

    python bench/scale.py [--feeds 1000] [--interval 5] [--rate 64k] [--seconds 30] [--processes 1 2 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.adaptive import farm_module
from bench.common import REPO, Farm, free_port, machine, table, write_config
from monitor.config import load
from monitor.store import open_store

TICK = os.sysconf("SC_CLK_TCK")


class Process:
    """One monitor process, its log to a file, its /healthz at `port`."""

    def __init__(self, config: Path, command: str, port: int) -> None:
        args = [command] + (["--health-port", str(port)] if command == "worker" else [])
        self.port = port
        self.log = config.parent / f"{command}-{port}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "--log-level", "WARNING", *args,
                                          "--config", str(config)], stdout=subprocess.DEVNULL, stderr=out, env=env,
                                         cwd=config.parent)

    def polls(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as answer:
            return int(json.load(answer)["polls"])

    def ready(self) -> bool:
        try:
            self.polls()
        except OSError:
            return False
        return True

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def started(config: Path, processes: int) -> Iterator[list[Process]]:
    """`monitor run` and `processes - 1` workers, each ready (its /healthz answers); stopped at the end."""
    port = int(load(config).monitor.health.port)
    running = [Process(config, "run", port)] + [Process(config, "worker", free_port()) for _ in range(processes - 1)]
    try:
        deadline = time.monotonic() + 60
        while not all(p.ready() for p in running):
            if time.monotonic() > deadline or any(p.proc.poll() is not None for p in running):
                raise SystemExit(f"a monitor process did not start; see {running[0].log.parent}")
            time.sleep(0.5)
        yield running
    finally:
        for process in running:
            process.stop()


def measure(config: Path, processes: int, farm: Farm, args: argparse.Namespace) -> tuple[float, float, float | None]:
    """(polls per second, CPU seconds per 1,000 polls, alert latency p95 in seconds) of one configuration."""
    generator, rng = farm_module(), random.Random(time.time_ns())  # new texts each run: never copies of the last
    feeds = sorted(farm.root.glob("feed-*.xml"))
    touched: dict[str, float] = {}  # source -> when its feed last got new items (epoch seconds)
    with started(config, processes) as running:
        deadline = time.monotonic() + 600  # first every feed is read whole and its 25 items analysed: not steady
        while sum(p.polls() for p in running) < 2 * args.feeds and time.monotonic() < deadline:
            time.sleep(1.0)
        time.sleep(args.warmup)
        polls, cpu, began = sum(p.polls() for p in running), sum(p.cpu() for p in running), time.time()
        while time.time() - began < args.seconds:
            for path in rng.sample(feeds, args.touch):
                n = int(path.stem.split("-")[1])
                generator.write_feed(path, n, int(time.time() * 10) % 10**6, random.Random(rng.random()))
                touched[f"farm-{n:05d}"] = time.time()
            time.sleep(1.0)
        polls = sum(p.polls() for p in running) - polls
        cpu = sum(p.cpu() for p in running) - cpu
        wall = time.time() - began
        time.sleep(args.interval * 2)  # the last touched feeds get their poll
    store = open_store(load(config))
    try:
        alerts = store.recent_alerts(limit=1_000_000, since=datetime.fromtimestamp(began, UTC))
    finally:
        store.close()
    first: dict[str, float] = {}
    for alert in alerts:
        at = touched.get(alert.source)
        if at is not None and alert.created.timestamp() >= at:
            first[alert.source] = min(first.get(alert.source, 1e18), alert.created.timestamp() - at)
    latencies = sorted(first.values())
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else None
    return polls / wall, cpu / polls * 1000 if polls else float("nan"), p95


def tick_cost(url: str, count: int) -> str:
    """What the tick's look-up of due sources costs at `count` sources, due over a 5-minute interval."""
    from monitor.store.postgres import PostgresStore
    from monitor.store.postgres_engine import due_polls, migrate

    store, now, rng = PostgresStore(url), datetime.now(UTC), random.Random(count)
    try:
        migrate(url)
        names = [f"s{n:06d}" for n in range(count)]
        with store.transaction() as conn:
            conn.cursor().executemany("INSERT INTO sources (name, error_count, next_due) VALUES (%s, 0, %s)",
                                      [(n, now + timedelta(seconds=rng.uniform(-1, 299))) for n in names])
            conn.execute("ANALYZE sources")
        times = []
        for _ in range(10):
            began = time.perf_counter()
            due = due_polls(store, names, now)
            times.append(time.perf_counter() - began)
    finally:
        store.close()
    return (f"# the tick's look-up at {count:,} sources ({len(due)} due): {min(times) * 1000:.0f}-"
            f"{max(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms (10 runs)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds; short enough to saturate")
    parser.add_argument("--rate", default="64k", help="nginx limit_rate per response (0: unthrottled)")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--touch", type=int, default=10, help="feeds given new items each second")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=50, help="jobs per engine process (fetch: 50 at once)")
    parser.add_argument("--tick-sources", type=int, default=50_000, help="time the tick's look-up at this many")
    args = parser.parse_args(argv)
    from tests.postgres import Cluster, install_once

    rows = []
    with Farm(args.feeds, args.rate) as farm, ExitStack() as stack:
        urls = farm.urls()
        cluster = Cluster(install_once())
        stack.callback(cluster.stop)
        runs = [("SQLite, one process", 1)] + [(f"PostgreSQL, {n} process(es)", n) for n in args.processes]
        for label, processes in runs:
            config = write_config(Path(tempfile.mkdtemp(prefix="bench-scale-")), urls,
                                  schedule={"interval": args.interval, "jitter": 0},
                                  notifiers=[{"name": "console", "kind": "console"}])
            with ExitStack() as database:
                settings = yaml.safe_load(config.read_text())
                settings.update(health={"port": free_port()}, reload={"watch": False},
                                engine={"concurrency": args.concurrency})
                if label.startswith("PostgreSQL"):
                    settings["storage"] = {"url": database.enter_context(cluster.database())}
                config.write_text(yaml.safe_dump(settings, sort_keys=False))
                rate, cpu, p95 = measure(config, processes, farm, args)
            rows.append([label, round(rate, 1), round(cpu, 2), "-" if p95 is None else round(p95, 1)])
            print(f"{label}: {rate:.1f} polls/s, {cpu:.2f} CPU s per 1,000 polls, p95 {p95}", file=sys.stderr)
        if args.tick_sources:
            with cluster.database() as url:
                tick = tick_cost(url, args.tick_sources)
    print(f"# bench/scale.py on {machine()}")
    print(f"# {args.feeds} feeds at --rate {args.rate}, interval {args.interval:.0f} s, window {args.seconds:.0f} s"
          f" after {args.warmup:.0f} s, {args.touch} feeds touched a second, {args.concurrency} jobs per process")
    print(table(["configuration", "polls/s", "CPU s / 1,000 polls", "alert latency p95 (s)"], rows))
    sqlite, *postgres = rows
    by = {int(str(r[0]).split(", ")[1].split(" ")[0]): r for r in postgres}
    if 1 in by and 2 in by:
        print(f"# 2 processes / 1: {float(by[2][1]) / float(by[1][1]):.2f}x throughput (target >= 1.8x)")
    if 1 in by:
        ratio = float(by[1][2]) / float(sqlite[2])
        print(f"# PostgreSQL 1 process / SQLite CPU per poll: {ratio:.2f}x (target <= 1.5x)")
    if args.tick_sources:
        print(tick)


if __name__ == "__main__":
    main()
