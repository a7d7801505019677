"""`monitor parse FILE|URL|-`: the items a feed yields as the monitor reads it, and the Article records made of them.

For an operator checking a feed (which items have no page to read, what text a watch list will see), and the
public seam of the feed conformance test. Relative links resolve against `--base`, else the URL fetched.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime

from monitor.records import Article, FetchResult
from monitor.sources.feed import articles, feed_items
from monitor.sources.items import Item

SOURCE = "parse"
SHOWN = 300  # characters of an item's text printed without --json


def run_parse(args: argparse.Namespace) -> int:
    """Print the items and articles of `args.target` (a file, an http(s) URL or '-'); ParseError if not a feed."""
    from monitor.cli import _read_input

    content, fetched = _read_input(args.target)
    address = args.base or fetched or ("stdin" if args.target == "-" else args.target)
    result = FetchResult(url=address, final_url=address, status=200, content=content)
    items = feed_items(result, source=SOURCE)
    found = articles(items, address, SOURCE, None)
    if args.json:
        document = {"items": [asdict(i) for i in items], "articles": [asdict(a) for a in found]}
        print(json.dumps(document, default=str, ensure_ascii=False, indent=2))
    else:
        print(render(items, found))
    if len(found) < len(items) and not (args.base or fetched):
        print("note: read without an address, relative links resolve to nothing; give the feed's URL as --base",
              file=sys.stderr)
    return 0


def render(items: list[Item], found: list[Article]) -> str:
    """The items for people: one block each, then how many became articles."""
    blocks = []
    for number, item in enumerate(items, 1):
        text = item.text if len(item.text) <= SHOWN else item.text[:SHOWN] + "…"
        blocks.append("\n".join([
            f"{number}. {item.title or '(no title)'}",
            f"   link: {item.link or '(none: not an article)'}",
            f"   guid: {item.guid or '-'}",
            f"   published: {_when(item.published)}  updated: {_when(item.updated)}  language: {item.language or '-'}",
            f"   text: {text or '-'}",
        ]))
    blocks.append(f"{len(items)} item(s), {len(found)} article(s)")
    return "\n\n".join(blocks)


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "-"
