"""Peak RSS of a real `monitor once` against documents that cost memory far beyond their size.

Cases (tests/memory_cases.py): `nested-divs`, a 4.5 MB `html` listing page of nested `<div>`s; `empty-items`,
a feed of 600,000 empty `<item/>`s; `hostile`, the 27 sources of tests/hostile.py; `all`, the three together.
Each run is a child `python -m monitor once` against loopback servers; its peak RSS is the child's own
`ru_maxrss` (from `wait4`). `--repo` measures another checkout (e.g. an export of an older commit) with the
same cases, for before/after figures.

    python bench/hostile_memory.py [--repo PATH] [--runs 3] [CASE ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, machine, table
from tests.memory_cases import CASES, peak_rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=[*CASES, "all"], help="default: every case, then all")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose monitor runs (default: this one)")
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    args = parser.parse_args(argv)

    print(f"hostile-document memory — {machine()}; monitor from {args.repo}")
    rows = []
    for case in args.cases:
        peaks, seconds, codes = [], [], set()
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
                began = time.monotonic()
                run = peak_rss(case, Path(tmp) / case, args.repo)
                seconds.append(time.monotonic() - began)
            peaks.append(run.peak_mb)
            codes.add(run.exit_code)
        rows.append([case, statistics.median(peaks), min(peaks), max(peaks), statistics.median(seconds),
                     ", ".join(map(str, sorted(codes)))])
    print()
    print(table(["case", "peak RSS MB (median)", "min", "max", "wall s (median)", "exit codes"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
