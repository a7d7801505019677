"""Benchmark: one poll cycle of the monitor beside two peers, urlwatch 2.29 and reader 3.26, same farm, same run.

Every system runs as its users run it, as a whole process: `monitor once`, `urlwatch` (one `url` job per
feed, `max_tries: 1`, reports off) and a reader script (every feed added, then
`update_feeds(workers=8, scheduled=False)`). Each runs cold (empty state, every feed answers 200) and
then warm (the same feeds again; systems that keep validators get 304s). The peers are installed by this
script into a virtual environment of their own (`--peers-venv`, created on first use from PyPI), so
their dependencies never meet the monitor's. Wall time is measured around each process; CPU time is
the process tree's user + system time (`RUSAGE_CHILDREN`).

    python bench/anchors.py [--feeds 500] [--rates 64k,0] [--peers-venv ~/.cache/ceasefire-monitor/peers]

`--monitor-only --feeds 21,100,500 --repeat 2` compares the monitor's `workers` settings alone, farm by farm.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Farm, machine, table, verdict, write_config

PEERS = ("urlwatch==2.29", "reader==3.26", "sgmllib3k")  # reader's vendored feedparser imports sgmllib
DEFAULT_VENV = Path.home() / ".cache" / "ceasefire-monitor" / "peers"
# Issue 13's targets for the cold and warm cycle of 500 throttled feeds.
COLD_WALL, COLD_CPU_PER_1000, WARM_WALL = 2.0, 4.0, 0.6
OVER_URLWATCH, OVER_READER = 5.0, 7.0

READER_SCRIPT = """
import sys
from reader import make_reader
reader = make_reader(sys.argv[1])
for url in open(sys.argv[2]).read().split():
    reader.add_feed(url, exist_ok=True)
reader.update_feeds(workers=8, scheduled=False)
print(reader.get_entry_counts().total)
"""


@dataclass
class Run:
    """One process's wall and CPU seconds."""

    wall: float
    cpu: float


def peers_venv(path: Path) -> Path:
    """The python of a virtual environment holding the peers (created and filled on first use)."""
    python = path / "bin" / "python"
    probe = [str(python), "-c", "import reader, sgmllib, urlwatch"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    print(f"installing {', '.join(PEERS)} into {path} (once)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return python


def timed(command: Sequence[str], cwd: Path) -> Run:
    """Run a command to completion (its output discarded; a failure stops the benchmark with its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def urlwatch_commands(peers: Path, root: Path, urls: list[str]) -> list[str]:
    """urlwatch with one job per feed and every reporter off."""
    root.mkdir(parents=True)
    jobs = root / "urls.yaml"
    jobs.write_text(yaml.safe_dump_all([{"name": f"feed {i}", "url": u, "max_tries": 1} for i, u in enumerate(urls)]))
    config = root / "urlwatch.yaml"
    config.write_text(yaml.safe_dump({"report": {"stdout": {"enabled": False}, "text": {"details": False}}}))
    urlwatch = peers.parent / "urlwatch"
    return [str(urlwatch), "--urls", str(jobs), "--config", str(config), "--cache", str(root / "cache.db")]


def reader_command(peers: Path, root: Path, urls: list[str]) -> list[str]:
    root.mkdir(parents=True)
    (root / "urls.txt").write_text("\n".join(urls))
    script = root / "update.py"
    script.write_text(READER_SCRIPT)
    return [str(peers), str(script), str(root / "reader.sqlite"), str(root / "urls.txt")]


def monitor_command(root: Path, urls: list[str], workers: int | str) -> list[str]:
    config = write_config(root, urls, notifiers=(), workers=workers)
    return [sys.executable, "-m", "monitor", "once", "--quiet", "--config", str(config)]


def stored(database: Path, query: str) -> int:
    """A count from a system's own database, to show that it did the work (0 when it wrote nothing)."""
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        return int(connection.execute(query).fetchone()[0])


STORED = {  # what each system keeps of the farm after a cold run: its database, and a count query
    "urlwatch": ("urlwatch/cache.db", "SELECT COUNT(DISTINCT guid) FROM CacheEntry"),
    "reader": ("reader/reader.sqlite", "SELECT COUNT(*) FROM entries"),
    "monitor-0": ("monitor-0/monitor.sqlite3", "SELECT COUNT(*) FROM articles"),
    "monitor-auto": ("monitor-auto/monitor.sqlite3", "SELECT COUNT(*) FROM articles"),
}


def cycle(feeds: int, rate: str, peers: Path | None, workdir: Path) -> dict[str, tuple[Run, Run]]:
    """Cold and warm runs of every system on one farm (of the monitor only without `peers`)."""
    results: dict[str, tuple[Run, Run]] = {}
    with Farm(feeds, rate) as farm:
        urls = farm.urls()
        systems = {
            "monitor, workers: 0": monitor_command(workdir / "monitor-0", urls, 0),
            "monitor, workers: auto": monitor_command(workdir / "monitor-auto", urls, "auto"),
        }
        if peers:
            systems = {
                "urlwatch 2.29": urlwatch_commands(peers, workdir / "urlwatch", urls),
                "reader 3.26, update_feeds(workers=8)": reader_command(peers, workdir / "reader", urls),
                **systems,
            }
        for name, command in systems.items():
            print(f"  {name} ...", file=sys.stderr, flush=True)
            cold = timed(command, workdir)
            results[name] = (cold, timed(command, workdir))
    kept = {name: stored(workdir / file, query) for name, (file, query) in STORED.items()}
    peers_kept = f"urlwatch {kept['urlwatch']:,} jobs' pages, reader {kept['reader']:,} entries, " if peers else ""
    print(
        f"kept after the runs: {peers_kept}"
        f"monitor {kept['monitor-0']:,} / {kept['monitor-auto']:,} articles ({feeds} feeds of 25 items)"
    )
    return results


def report(feeds: int, rate: str, results: dict[str, tuple[Run, Run]]) -> None:
    rows = [
        [name, cold.wall, cold.cpu, cold.cpu * 1000 / feeds, warm.wall, warm.cpu]
        for name, (cold, warm) in results.items()
    ]
    print(f"\n{feeds} feeds, nginx limit_rate {rate}:")
    print(table(["system", "cold wall s", "cold CPU s", "CPU s / 1000 feeds", "warm wall s", "warm CPU s"], rows))
    if "urlwatch 2.29" not in results:
        return
    urlwatch, reader = results["urlwatch 2.29"][0], results["reader 3.26, update_feeds(workers=8)"][0]
    for name, (cold, warm) in results.items():
        if not name.startswith("monitor"):
            continue
        print(
            f"{name}: cold {urlwatch.wall / cold.wall:.1f}x urlwatch's speed, {reader.wall / cold.wall:.1f}x reader's; "
            f"warm {results['urlwatch 2.29'][1].wall / warm.wall:.1f}x urlwatch's, "
            f"{results['reader 3.26, update_feeds(workers=8)'][1].wall / warm.wall:.1f}x reader's"
        )
    if rate != "0":
        best = min((r for n, r in results.items() if n.startswith("monitor")), key=lambda r: r[0].wall)
        cold, warm = best
        per_1000 = cold.cpu * 1000 / feeds
        print(
            f"targets (issue 13, fastest monitor setting): cold ≤ {COLD_WALL:g} s: {cold.wall:.2f} s "
            f"{verdict(cold.wall <= COLD_WALL)}; ≥ {OVER_URLWATCH:g}x urlwatch: "
            f"{verdict(urlwatch.wall / cold.wall >= OVER_URLWATCH)}; ≥ {OVER_READER:g}x reader: "
            f"{verdict(reader.wall / cold.wall >= OVER_READER)}; ≤ {COLD_CPU_PER_1000:g} CPU s per 1,000 feeds: "
            f"{per_1000:.1f} {verdict(per_1000 <= COLD_CPU_PER_1000)}; warm ≤ {WARM_WALL:g} s: {warm.wall:.2f} s "
            f"{verdict(warm.wall <= WARM_WALL)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", default="500", help="feeds in the farm, comma-separated for several (default 500)")
    parser.add_argument("--monitor-only", action="store_true", help="run the monitor's settings, not the peers")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each farm (default 1)")
    parser.add_argument("--rates", default="64k,0", help="nginx limit_rate values, comma-separated; 0 = unthrottled")
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_VENV, help=f"where the peers live ({DEFAULT_VENV})")
    args = parser.parse_args(argv)
    peers = None if args.monitor_only else peers_venv(args.peers_venv.expanduser())
    print(f"anchors benchmark — {machine()}")
    for rate in args.rates.split(","):
        for feeds in map(int, args.feeds.split(",")):
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory(prefix="bench-anchors-") as tmp:
                    os.chmod(tmp, 0o755)
                    report(feeds, rate, cycle(feeds, rate, peers, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
