"""Parsing, extraction and matching in worker processes: the same alerts as in the service process,
known feed entries not analysed again, a dead worker replaced, a reload followed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.fingerprint import entry_hash, fingerprint
from monitor.once import OnceResult, run_once
from monitor.query import Matcher
from monitor.records import Article, FetchResult, WatchList
from monitor.workers import MAX_TEXT_CHARS, Workers, parse_items, worker_count
from tests.testdata import SHARED, seed_source, write_config

DEV = SHARED / "corpora" / "ceasefire-dev.jsonl"
CEASEFIRE = WatchList("ceasefire", ("ceasefire OR truce",), threshold=0)
TRUCE_ONLY = WatchList("truce", ("truce",), threshold=0)
SOURCE = config_mod.SourceConfig.model_validate({"name": "outlet", "url": "https://outlet.example/feed.xml"})


def dev_feed(count: int = 12) -> bytes:
    """An RSS feed of the dev set's first English items, both labels (analysed while the feed is parsed)."""
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = [r for r in rows if r["lang"] == "en"][:count]
    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>https://dev.example/{r['id']}</link>"
        f"<description>{escape(r['text'])}</description></item>"
        for r in chosen
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>dev</title>{items}</channel></rss>'.encode()


def workers_config(workdir: Path, site: StaticSite, workers: int) -> Path:
    """The seed feed with its pages, a feed of the dev corpus, a real feed and a page that is not a feed."""
    names = ("dev", "aljazeera", "broken")
    feeds: list[dict[str, object]] = [{"name": name, "url": f"{site.base}/{name}.xml"} for name in names]
    return write_config(workdir, [seed_source(site), *feeds], workers=workers)


def alerts(result: OnceResult) -> set[tuple[str, str, str, str]]:
    return {(a.kind, a.source, a.url, a.snippet) for a in result.alerts}


@pytest.mark.skipif(not DEV.is_file(), reason="shared dev corpus not present")
def test_a_worker_pool_alerts_exactly_as_the_service_process_does(tmp_path: Path) -> None:
    seen: dict[int, list[set[tuple[str, str, str, str]]]] = {}
    broken = b"<html><body>Service temporarily unavailable</body></html>"
    extra = {"/dev.xml": (dev_feed(), "application/rss+xml"), "/broken.xml": (broken, "application/rss+xml")}
    for workers in (0, 1):
        with StaticSite({}) as site:
            site.routes = seed_routes(site.base) | extra
            workdir = tmp_path / str(workers)
            workdir.mkdir()
            settings = config_mod.load(workers_config(workdir, site, workers))
            first = asyncio.run(run_once(settings))
            site.routes = seed_routes(site.base, "border-v2.html", "Thu, 06 Jul 2017 11:30:00 GMT") | extra
            second = asyncio.run(run_once(settings))
        assert [r.error_type for r in first.reports] == [None, None, None, "ParseError"]  # raised in a worker too
        seen[workers] = [alerts(first), alerts(second)]
    assert seen[1] == seen[0]
    first_pass, edit_pass = seen[1]
    assert {source for _, source, _, _ in first_pass} == {"panarmenian", "dev"}
    assert [kind for kind, *_ in edit_pass] == ["updated"]  # the edit, matched against what it added


def feed_result(*items: tuple[str, str]) -> FetchResult:
    entries = "".join(
        f"<item><title>{title}</title><link>https://outlet.example/{n}</link><description>{text}</description></item>"
        for n, (title, text) in enumerate(items)
    )
    content = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'
    url = "https://outlet.example/feed.xml"
    return FetchResult(url=url, final_url=url, status=200, content=content.encode(), content_type="application/rss+xml")


def test_parse_items_analyses_new_entries_and_skips_known_ones() -> None:
    result = feed_result(("Truce holds", "The truce held overnight."), ("Harvest", "Apricots are ripe."))
    matcher = Matcher([CEASEFIRE])
    fresh = parse_items(matcher, SOURCE, result, frozenset())
    assert [p.analysis is not None for p in fresh] == [True, True]
    truce, harvest = fresh
    assert truce.analysis and [m.watchlist for m in truce.analysis.matches] == ["ceasefire"]
    assert harvest.analysis and harvest.analysis.matches == ()
    assert truce.analysis.fingerprint == fingerprint(truce.article.text)

    again = parse_items(matcher, SOURCE, result, frozenset({truce.entry}))
    assert [p.analysis is None for p in again] == [True, False]
    assert [p.entry for p in again] == [entry_hash(p.article) for p in again]
    assert all(p.analysis is None for p in parse_items(None, SOURCE, result, frozenset()))


def test_parse_items_cuts_giant_texts_and_says_so() -> None:
    (giant,) = parse_items(None, SOURCE, feed_result(("Long", "word " * (MAX_TEXT_CHARS // 4))), frozenset())
    assert giant.cut and len(giant.article.summary) == MAX_TEXT_CHARS


@pytest.mark.parametrize(("cpus", "expected"), [(1, 0), (2, 1), (3, 2), (16, 4)])
def test_auto_leaves_the_event_loop_a_core_and_uses_the_others(cpus: int, expected: int) -> None:
    assert worker_count("auto", cpus) == expected
    assert worker_count(3, cpus) == 3


def truce_article() -> Article:
    return Article(url="https://outlet.example/a", source="outlet", title="Truce", body="A truce was agreed.")


async def test_a_dead_worker_is_replaced_and_a_reload_reaches_the_pool() -> None:
    workers = Workers(Matcher([CEASEFIRE]), processes=1)
    try:
        (before,) = await workers.analyse([truce_article()])
        assert [m.watchlist for m in before.matches] == ["ceasefire"]
        pid = await workers._run(0, os.getpid)
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        (after,) = await workers.analyse([truce_article()])  # a new pool took over
        assert after == before
        assert await workers._run(0, os.getpid) != pid

        workers.reconfigure(Matcher([TRUCE_ONLY]), 1)
        (reloaded,) = await workers.analyse([truce_article()])
        assert [m.watchlist for m in reloaded.matches] == ["truce"]
    finally:
        workers.close()
