"""The cost of looking for the pages due for a re-check (`Store.pages_to_recheck`), which the service asks every
minute: a SQLite store of `--articles` articles spread over `--days` days in `--sources` sources, every
`--alert-every`-th of them alerted, asked `--repeat` times for the 50 pages due.

    python bench/recheck.py [--articles 20000] [--sources 20] [--days 28] [--alert-every 4] [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.records import Article, Match
from monitor.store.sqlite import SqliteStore

MATCH = Match("ceasefire", "ceasefire", ("ceasefire",), "The ceasefire held.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--days", type=float, default=28)
    parser.add_argument("--alert-every", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    now = datetime.now(UTC)
    step = timedelta(days=args.days) / args.articles
    clock = [now]
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "db.sqlite3", clock=lambda: clock[0])
        with store.transaction():
            for n in range(args.articles):
                clock[0] = now - step * (args.articles - n)
                source = f"s{n % args.sources}"
                article = Article(url=f"https://{source}.example/{n}", source=source, title=f"Story {n}", body="Text.")
                matches = [MATCH] if n % args.alert_every == 0 else []
                store.save_article(article, fingerprint=n, kind="new", matches=matches, notifiers=["console"])
        names = [f"s{i}" for i in range(args.sources)]
        for _ in range(args.repeat):
            began = time.perf_counter()
            due = store.pages_to_recheck(names, now - timedelta(days=1), now - timedelta(minutes=15), 50)
            print(f"{len(due)} pages due, looked up in {1000 * (time.perf_counter() - began):.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
