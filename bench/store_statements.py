"""SQL statements per feed item of whole `monitor.once.run_once` passes over the (unthrottled) feed farm.

Every connection the monitor opens to its database gets a sqlite3 trace callback, which is called once
per statement SQLite runs (each row of an `executemany` is one). Three passes on one database: cold (every
item new), warm (every feed answers 304) and changed (`feedfarm.py touch DIR 1` rewrites every feed with
other items: new ones, on a database that holds the cold pass's). Per pass: the statements, the feed items
parsed, statements per item and per feed, the most frequent kinds, and the wall and CPU time (noisy on a
loaded machine).

    python bench/store_statements.py [--feeds 200] [--repo PATH]

`--repo` runs another checkout's `monitor` package (e.g. `git archive HEAD~3 | tar -x -C /tmp/old`)
for before/after figures; the farm and this script stay this checkout's.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Farm, machine, measured, register_null_notifier, table, write_config


def count_statements(counter: Counter[str]) -> None:
    """Count, by first keyword, every statement run on a connection opened from now on."""
    connect = sqlite3.connect

    def counting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)  # Any: *args match several overloads of connect
        conn.set_trace_callback(lambda sql: counter.update([sql.split(None, 1)[0].upper()]))
        return conn

    sqlite3.connect = counting  # type: ignore[assignment]  # a stand-in taking *args, not connect's overloads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200, help="feeds in the farm (default 200)")
    parser.add_argument("--repo", type=Path, help="the checkout whose monitor package runs (default this one)")
    args = parser.parse_args(argv)
    if args.repo:
        sys.path.insert(0, str(args.repo.resolve()))
    import asyncio

    from monitor.config import load
    from monitor.once import run_once

    register_null_notifier()
    counter: Counter[str] = Counter()
    count_statements(counter)
    print(f"store statements — {machine()}; monitor from {Path(sys.modules['monitor'].__file__ or '').parent}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp, Farm(args.feeds) as farm:
        settings = load(write_config(Path(tmp), farm.urls()))
        for name in ("cold", "warm", "changed"):
            if name == "changed":
                farm.touch(1.0)
            counter.clear()
            with contextlib.redirect_stdout(sys.stderr), measured() as spent:
                result = asyncio.run(run_once(settings))
            items = sum(r.items for r in result.reports)
            statements = counter.total()
            kinds = ", ".join(f"{kind} {n}" for kind, n in counter.most_common(6))
            per_item = f"{statements / items:.2f}" if items else "-"
            feeds = len(result.reports)
            rows.append([name, statements, items, per_item, statements / feeds, spent.wall, spent.cpu, kinds])
    headers = ["pass", "statements", "items", "per item", "per feed", "wall s", "CPU s", "most frequent"]
    print(table(headers, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
