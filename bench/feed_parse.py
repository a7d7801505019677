"""CPU per feed of the two feed parser paths on the shared feed corpus, this checkout and (`--baseline`) another.

Each well-formed XML feed of `../shared/corpora/feeds` (its MANIFEST: not under malformed/, not JSON) is decoded
once, then turned into Article records `--rounds` times by each path: the lxml fast path
(`fastfeed.parse_simple`) and the feedparser fallback (`feed._feedparser_items`), both through `feed._articles`.
The figure is the median over rounds of the process CPU time (`time.process_time`) for the corpus, divided by
its feed count. Each checkout is measured in child processes of its own (`--baseline PATH`: an export of an
older commit, e.g. `git archive OLD | tar -x -C /tmp/old`), `--runs` of them in turns with the other's in the
same run, and the median of the runs is printed, so the ratios compare figures from the same machine at the
same time.

    python bench/feed_parse.py [--rounds 7] [--runs 3] [--baseline PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, SHARED, machine, table

if TYPE_CHECKING:
    from monitor.sources.items import RawItem

FEEDS = SHARED / "corpora" / "feeds"


def well_formed_feeds() -> list[str]:
    """The corpus files the fast path reads: the MANIFEST's XML feeds outside malformed/."""
    with (FEEDS / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        names = [row["file"] for row in csv.DictReader(manifest, delimiter="\t")]
    return sorted(n for n in names if not n.startswith("malformed/") and not n.endswith(".json"))


def measure(rounds: int) -> dict[str, float]:
    """CPU ms per feed of each path in the checkout this process imports `monitor` from."""
    from monitor.sources import feed
    from monitor.sources.fastfeed import parse_simple
    from monitor.sources.text import decode_document

    names = well_formed_feeds()
    texts = [(f"http://news.example/{n}", decode_document((FEEDS / n).read_bytes()).lstrip("\ufeff \t\r\n"))
             for n in names]

    def fast(text: str, url: str) -> list[RawItem]:
        items = parse_simple(text, url)
        if items is None:  # it would be read by feedparser, and timed as the fast path
            raise SystemExit(f"{url}: the fast path leaves this feed to feedparser")
        return items

    paths: dict[str, Callable[[str, str], list[RawItem]]] = {"fast": fast, "fallback": feed._feedparser_items}
    figures: dict[str, float] = {"feeds": len(texts)}
    for label, items_of in paths.items():
        times = []
        for _ in range(rounds):
            began = time.process_time()
            for url, text in texts:
                feed._articles(items_of(text, url), url, "bench", None)
            times.append(time.process_time() - began)
        figures[label] = statistics.median(times) / len(texts) * 1000
    return figures


def run_child(repo: Path, rounds: int) -> dict[str, float]:
    """`measure` in a child process that imports `monitor` from `repo`."""
    command = [sys.executable, __file__, "--rounds", str(rounds), "--child", str(repo)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="passes over the corpus per path (default 7)")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure in the same run (before)")
    parser.add_argument("--runs", type=int, default=3, help="child processes per checkout, in turns (default 3)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # measure with monitor from this checkout
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(args.child))
        print(json.dumps(measure(args.rounds)))
        return 0

    print(f"feed parsing CPU — {machine()}")
    checkouts = [("this checkout", REPO)] + ([("baseline", args.baseline)] if args.baseline else [])
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _ in checkouts}
    for _ in range(args.runs):  # in turns, so that a change of load falls on both
        for label, repo in checkouts:
            runs[label].append(run_child(repo, args.rounds))
    results = {label: {key: statistics.median(r[key] for r in figures) for key in figures[0]}
               for label, figures in runs.items()}
    rows = [[label, int(r["feeds"]), r["fast"], r["fallback"], r["fallback"] / r["fast"]]
            for label, r in results.items()]
    print(table(["checkout", "feeds", "fast ms/feed", "fallback ms/feed", "fallback / fast"], rows))
    if args.baseline:
        now, before = results["this checkout"], results["baseline"]
        print(f"this checkout / baseline: fast {now['fast'] / before['fast']:.2f}x, "
              f"fallback {now['fallback'] / before['fallback']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
