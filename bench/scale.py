"""The engine on PostgreSQL with 1, 2 and 4 processes against the single-process SQLite service, on the feed farm.

Each configuration polls the same nginx farm (`--feeds` feeds on 50 loopback addresses, throttled to `--rate` per
response so a feed takes about 250 ms, like a distant server) at a fixed `--interval` short enough that no
configuration keeps up: what it polls per second is what it can. PostgreSQL runs are `monitor run` plus
`processes - 1` `monitor worker`s (the run process polls too) on a fresh database of a throwaway cluster
(tests/postgres.py); SQLite is one `monitor run`. Once every feed has been polled twice on average (the first
poll reads each feed whole and analyses its 25 items) and `--warmup` seconds more, for `--seconds`:

- sources polled per second: the polls every process's /healthz counts (`polls`), over the window;
- CPU per 1,000 polls: user + system CPU of every monitor process (from /proc) over the window, per 1,000 polls
  (the farm, PostgreSQL and this script not counted); PostgreSQL's own (its server processes) in a column of its own:
  on a machine of few cores the two share them;
- alert latency p95: every second `--touch` feeds get new items (feedfarm's generator; about one in twelve
  alerts); from that rewrite to the alert's creation. Under saturation it is dominated by the wait for the
  next poll of the feed (the farm divided by the throughput), so it follows throughput;
- with `--statements`, the statements per poll the monitor processes sent PostgreSQL over the window
  (pg_stat_statements, loaded into the throwaway cluster): the store's, and those of the engine's jobs
  (procrastinate's, and the tick's look-up).

    python bench/scale.py [--feeds 1000] [--interval 5] [--rate 64k] [--seconds 30] [--processes 1 2 4] [--statements]
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
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
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
        return _cpu(_stat(self.proc.pid))

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


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command (state, ppid, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu(fields: Sequence[str], *, children: bool = False) -> float:
    """utime + stime seconds (with `children`, also of the children it has waited for)."""
    return sum(int(f) for f in fields[11:15 if children else 13]) / TICK


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: its postmaster with the backends that ended, and those running."""
    total = _cpu(_stat(postmaster), children=True)
    for path in Path("/proc").glob("[0-9]*"):
        try:
            fields = _stat(int(path.name))
        except (OSError, ValueError):  # ended meanwhile
            continue
        if int(fields[1]) == postmaster:
            total += _cpu(fields)
    return total


@dataclass
class Result:
    """One configuration's figures over the window."""

    rate: float  # polls per second
    cpu: float  # CPU seconds of the monitor processes per 1,000 polls
    server_cpu: float | None  # PostgreSQL's, per 1,000 polls
    p95: float | None  # alert latency, seconds
    statements: Counter[str] | None  # per poll, by whose (`statements`), with --statements


def statements(url: str, *, reset: bool = False) -> Counter[str]:
    """The statements sent to the database at `url` since the last reset, by whose they are: "jobs" (procrastinate's,
    and the tick's look-up of its jobs) or "store"; `reset` starts counting again (pg_stat_statements)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if reset:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
            return Counter()
        rows = conn.execute("SELECT s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                            " WHERE d.datname = current_database()").fetchall()
    found: Counter[str] = Counter()
    for query, calls in rows:
        if "pg_stat_statements" not in query:
            found["jobs" if "procrastinate" in query else "store"] += calls
    return found


def measure(config: Path, processes: int, farm: Farm, args: argparse.Namespace, postmaster: int | None) -> Result:
    """One configuration's figures; `postmaster`: the PostgreSQL server's process, for a run on PostgreSQL."""
    url = load(config).database_url if args.statements and postmaster else None
    generator, rng = farm_module(), random.Random(time.time_ns())  # new texts each run: never copies of the last
    feeds = sorted(farm.root.glob("feed-*.xml"))
    touched: dict[str, float] = {}  # source -> when its feed last got new items (epoch seconds)
    with started(config, processes) as running:
        deadline = time.monotonic() + 600  # first every feed is read whole and its 25 items analysed: not steady
        while sum(p.polls() for p in running) < 2 * args.feeds and time.monotonic() < deadline:
            time.sleep(1.0)
        time.sleep(args.warmup)
        if url:
            statements(url, reset=True)
        polls, cpu, began = sum(p.polls() for p in running), sum(p.cpu() for p in running), time.time()
        server = server_cpu(postmaster) if postmaster else 0.0
        while time.time() - began < args.seconds:
            for path in rng.sample(feeds, args.touch):
                n = int(path.stem.split("-")[1])
                generator.write_feed(path, n, int(time.time() * 10) % 10**6, random.Random(rng.random()))
                touched[f"farm-{n:05d}"] = time.time()
            time.sleep(1.0)
        polls = sum(p.polls() for p in running) - polls
        cpu = sum(p.cpu() for p in running) - cpu
        server = server_cpu(postmaster) - server if postmaster else 0.0
        wall = time.time() - began
        sent = statements(url) if url else None
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
    per_poll = Counter({whose: count / polls for whose, count in sent.items()}) if sent and polls else None
    per_1000 = 1000 / polls if polls else float("nan")
    return Result(polls / wall, cpu * per_1000, server * per_1000 if postmaster else None, p95, per_poll)


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
    parser.add_argument("--statements", action="store_true", help="count statements per poll (pg_stat_statements)")
    parser.add_argument("--no-validators", dest="validators", action="store_false",
                        help="the farm sends no ETag and ignores If-Modified-Since: every poll downloads its feed whole"
                        " (throttled, about 250 ms): polling bound by the network, as with distant servers")
    args = parser.parse_args(argv)
    from tests.postgres import Cluster, install_once

    rows = []
    with Farm(args.feeds, args.rate, validators=args.validators) as farm, ExitStack() as stack:
        urls = farm.urls()
        cluster = Cluster(install_once())
        stack.callback(cluster.stop)
        if args.statements:
            cluster.admin.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            cluster.restart()
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
                postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
                got = measure(config, processes, farm, args, postmaster if label.startswith("PostgreSQL") else None)
            rows.append([label, round(got.rate, 1), round(got.cpu, 2),
                         "-" if got.server_cpu is None else round(got.server_cpu, 2),
                         "-" if got.p95 is None else round(got.p95, 1)] + ([_sent(got.statements)] if args.statements
                                                                            else []))
            print(f"{label}: {got.rate:.1f} polls/s, {got.cpu:.2f} CPU s per 1,000 polls (PostgreSQL's:"
                  f" {got.server_cpu}), p95 {got.p95}, statements per poll {_sent(got.statements)}", file=sys.stderr)
        if args.tick_sources:
            with cluster.database() as url:
                tick = tick_cost(url, args.tick_sources)
    print(f"# bench/scale.py on {machine()}")
    print(f"# {args.feeds} feeds at --rate {args.rate}, interval {args.interval:.0f} s, window {args.seconds:.0f} s"
          f" after {args.warmup:.0f} s, {args.touch} feeds touched a second, {args.concurrency} jobs per process")
    print(table(["configuration", "polls/s", "CPU s / 1,000 polls", "PostgreSQL CPU s / 1,000", "alert latency p95 (s)"]
                + (["statements / poll: store + jobs"] if args.statements else []), rows))
    sqlite, *postgres = rows
    by = {int(str(r[0]).split(", ")[1].split(" ")[0]): r for r in postgres}
    if 1 in by and 2 in by:
        print(f"# 2 processes / 1: {float(by[2][1]) / float(by[1][1]):.2f}x throughput (target >= 1.8x)")
    if 1 in by:
        ratio = float(by[1][2]) / float(sqlite[2])
        print(f"# PostgreSQL 1 process / SQLite CPU per poll: {ratio:.2f}x (target <= 1.5x)")
    if args.tick_sources:
        print(tick)


def _sent(per_poll: Counter[str] | None) -> str:
    return "-" if per_poll is None else f"{per_poll['store']:.2f} + {per_poll['jobs']:.2f}"


if __name__ == "__main__":
    main()
