"""Benchmark 3: peak memory (RSS) of the service holding 1,000 sources and 100,000 stored articles.

Fills a SQLite store through `SqliteStore.save_article` with 100,000 articles of 1-2 KB (sentences
of real news text, first seen over the last 90 days), configures 1,000 feed sources served by the
feed farm, runs `monitor.service.Service(settings).run()` in a child process until every source has
been polled once (one full cycle: 25,000 feed items parsed, stored and matched), then reads the
child's peak RSS (VmHWM). Baseline: the peak RSS of a bare Python process that imported the same
libraries (`monitor.service`, `monitor.scheduler` and what they import), measured in the same run.
The farm's feeds name no language, so the service loads the language model: from the user cache as a
running install does, or, with `--empty-model-cache`, building it first as an install's first start does.
Then the language identifier alone, in fresh processes: its load time and what it adds to RSS (private and
file-backed: the mapped model) after the load and after classifying the corpus' texts, cache empty and built.

    python bench/memory.py [--sources 1000] [--articles 100000] [--rate 0] [--empty-model-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CORPUS, Farm, machine, measured, register_null_notifier, table, verdict, write_config
from bench.matcher import load_corpus, make_articles

TARGET_MB = 150.0
HISTORY = timedelta(days=90)


def peak_rss() -> dict[str, float]:
    """This process's peak and current resident set size, in MB."""
    status = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("Vm")
    )
    kb = {key: float(value.split()[0]) for key, value in status.items() if key in ("VmHWM", "VmRSS")}
    return {
        "hwm_mb": kb["VmHWM"] / 1024,
        "rss_mb": kb["VmRSS"] / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fill(db: Path, count: int, sources: int, seed: int) -> None:
    """Store `count` articles through the store's own API, first seen over the last 90 days."""
    from monitor.records import Article
    from monitor.store.sqlite import SqliteStore

    rng = random.Random(seed)
    texts = make_articles(load_corpus(CORPUS), min(count, 5000), rng)
    start = datetime.now(UTC) - HISTORY
    step = HISTORY / max(1, count)
    moments: Iterator[datetime] = (start + step * i for i in range(count))
    current = start

    def clock() -> datetime:
        return current

    store = SqliteStore(db, clock=clock)
    try:
        for i, when in enumerate(moments):
            current = when
            text = texts[i % len(texts)]
            article = Article(
                url=f"http://archive{i % sources}.example/a/{i}",
                source=f"farm-{i % sources:05d}",
                title=text.title,
                body=f"{text.body} ({i})",  # distinct content hashes
                published=when,
                guid=f"archive-{i}",
            )
            # A random SimHash: computing 100,000 real ones would only slow the fill down.
            store.save_article(article, fingerprint=rng.getrandbits(64), kind="new", matches=(), notifiers=("null",))
    finally:
        store.close()


# -- child processes --------------------------------------------------------------------------


async def serve_one_cycle(config: Path, expect: int, timeout: float) -> dict[str, Any]:
    """Run the service until `expect` polls are done (or `timeout`), then report RSS and stop it."""
    from monitor.config import load
    from monitor.service import Service

    service = Service(load(config))
    task = asyncio.create_task(service.run())
    began = time.monotonic()
    while service.health.polls < expect and time.monotonic() - began < timeout and not task.done():
        await asyncio.sleep(0.25)
    cycle = time.monotonic() - began
    await asyncio.sleep(2)  # let the dispatcher drain the outbox
    figures: dict[str, Any] = {
        **peak_rss(),
        "polls": service.health.polls,
        "failures": service.health.failures,
        "cycle_s": cycle,
    }
    service.stop()
    await task
    return figures


def rss_parts() -> dict[str, float]:
    """This process's resident memory, private (anonymous) and file-backed, in MB."""
    kb = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: float(kb[key].split()[0]) / 1024 for key in ("RssAnon", "RssFile", "VmHWM")}


def identifier_figures() -> dict[str, float]:
    """Load the language identifier and classify the corpus' texts (their starts, as detection reads them)."""
    import py3langid.langid  # noqa: F401 - the imports are not the model's cost

    from monitor.query import language

    texts = [f"{item['title']} {item['text']}" for item in map(json.loads, CORPUS.read_text().splitlines())]
    before, began = rss_parts(), time.process_time()
    identifier = language._identifier()
    load_cpu, loaded = time.process_time() - began, rss_parts()
    for text in texts:
        identifier.classify(text[: language.SAMPLE_CHARS])
    done = rss_parts()
    base = before["RssAnon"] + before["RssFile"]
    return {
        "load_cpu_s": load_cpu,
        "load_peak_mb": loaded["VmHWM"] - base,
        **{f"{key}_loaded_mb": loaded[key] - before[key] for key in ("RssAnon", "RssFile")},
        **{f"{key}_classified_mb": done[key] - before[key] for key in ("RssAnon", "RssFile")},
        "texts": len(texts),
    }


def child(argv: list[str]) -> int:
    """`--child-service CONFIG EXPECT TIMEOUT`, `--child-identifier` or `--child-bare`: print the figures as
    one JSON line."""
    if argv[0] == "--child-identifier":
        print(json.dumps(identifier_figures()))
        return 0
    if argv[0] == "--child-bare":
        import monitor.scheduler
        import monitor.service  # noqa: F401

        print(json.dumps(peak_rss()))
        return 0
    register_null_notifier()
    print(json.dumps(asyncio.run(serve_one_cycle(Path(argv[1]), int(argv[2]), float(argv[3])))))
    return 0


def run_child(*args: str, cache: Path | None = None) -> dict[str, Any]:
    """A child's figures; `cache`: its XDG_CACHE_HOME (default: the user's)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)} if cache else None
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=env)
    if done.stderr.strip():
        print(done.stderr.strip()[-2000:], file=sys.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def python_only() -> dict[str, Any]:
    """A bare interpreter's peak RSS, for reference."""
    code = "import re, pathlib; print(re.search(r'VmHWM:\\s+(\\d+)', pathlib.Path('/proc/self/status').read_text())[1])"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return {"hwm_mb": float(done.stdout) / 1024}


def count_articles(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("--child"):
        return child(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rate", default="0", help="nginx limit_rate per response (default 0: unthrottled)")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for the cycle (default 240)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--empty-model-cache", action="store_true", help="the service builds the language model's cache first"
    )
    args = parser.parse_args(argv)

    print(f"memory benchmark — {machine()}")
    shm = Path("/dev/shm")  # a RAM disk makes the 100,000 fill transactions quick; RSS is not affected
    with tempfile.TemporaryDirectory(prefix="bench-mem-", dir=shm if shm.is_dir() else None) as tmp:
        root = Path(tmp)
        with Farm(args.sources, args.rate) as farm:
            config = write_config(root / "config", farm.urls(), schedule={"interval": "1h", "jitter": "10s"})
            db = root / "config" / "monitor.sqlite3"
            with measured() as filling:
                fill(db, args.articles, args.sources, args.seed)
            print(
                f"filled the store with {args.articles:,} articles in {filling.wall:.0f} s "
                f"({db.stat().st_size / 2**20:,.0f} MB on disk)"
            )
            cache = root / "cache" if args.empty_model_cache else None
            service = run_child("--child-service", str(config), str(args.sources), str(args.timeout), cache=cache)
        stored = count_articles(db)
    bare = run_child("--child-bare")
    interpreter = python_only()

    print(
        f"service: {service['polls']:,} of {args.sources:,} sources polled in {service['cycle_s']:.1f} s "
        f"({service['failures']} failures); {stored:,} articles stored at the end; language model "
        f"{'cache built by the service' if args.empty_model_cache else 'read from the user cache'}"
    )
    print()
    print(
        table(
            ["process", "peak RSS MB (VmHWM)", "RSS MB at the end"],
            [
                [
                    f"service: {args.sources:,} sources, {stored:,} articles, one cycle",
                    service["hwm_mb"],
                    service["rss_mb"],
                ],
                ["bare Python + the same imports (baseline)", bare["hwm_mb"], bare["rss_mb"]],
                ["bare Python interpreter (for reference)", interpreter["hwm_mb"], "-"],
            ],
        )
    )
    ratio = service["hwm_mb"] / bare["hwm_mb"]
    print()
    print(
        f"service peak RSS: {service['hwm_mb']:.1f} MB = {ratio:.2f}x the bare imports' "
        f"(+{service['hwm_mb'] - bare['hwm_mb']:.1f} MB) (target ≤ {TARGET_MB:g} MB: "
        f"{verdict(service['hwm_mb'] <= TARGET_MB)})"
    )
    with tempfile.TemporaryDirectory(prefix="bench-mem-cache-") as empty:
        built, cached = (run_child("--child-identifier", cache=Path(empty)) for _ in range(2))
    print()
    print(f"language identifier, {built['texts']} texts of {CORPUS.name} classified (MB over the process before it):")
    print(
        table(
            ["model cache", "load CPU s", "peak at load", "private / mapped after load", "... after classifying"],
            [
                [
                    name,
                    figures["load_cpu_s"],
                    figures["load_peak_mb"],
                    f"{figures['RssAnon_loaded_mb']:.1f} / {figures['RssFile_loaded_mb']:.1f}",
                    f"{figures['RssAnon_classified_mb']:.1f} / {figures['RssFile_classified_mb']:.1f}",
                ]
                for name, figures in (("empty (built by the process)", built), ("built", cached))
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
