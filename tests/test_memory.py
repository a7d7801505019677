"""Memory stays bounded within the size cap: a document is read up to its first `MAX_ITEMS` items and a bounded
number of elements, and the memory a big document's parse freed goes back to the system.

The first tests run a real `monitor once` against loopback servers (tests/memory_cases.py) and bound the child's
peak RSS; the others pin each bound down in-process.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from monitor import workers
from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.extract import extract_page
from monitor.query import Matcher
from monitor.records import Article, FetchResult
from monitor.sources import MAX_ITEMS, SOURCE_KINDS
from monitor.sources import feed as feed_mod
from monitor.sources.fastfeed import parse_simple
from monitor.sources.feed import MAX_FEED_ELEMENTS
from monitor.sources.text import MAX_HTML_ELEMENTS, html_to_text

from .memory_cases import LISTING_LINKS, nested_divs, peak_rss

URL = "http://news.example/feed.xml"


def stored_titles(db: Path, source: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [t for (t,) in conn.execute("SELECT title FROM articles WHERE source = ?", (source,))]


# -- real processes ----------------------------------------------------------------------------------------------
# Peak RSS before the bounds: 566, 348 and 793 MB (2 cores, 2026-12-01, bench/hostile_memory.py); after: 92, 83, 265.


def test_a_listing_page_of_nested_divs_is_read_with_bounded_memory(tmp_path: Path) -> None:
    run = peak_rss("nested-divs", tmp_path / "run")
    assert run.peak_mb < 200, run.stderr[-2000:]
    assert run.exit_code == 0, run.stderr[-2000:]
    assert len(stored_titles(run.db, "nested-divs")) == LISTING_LINKS  # the links before the cut
    assert f"has more than {MAX_HTML_ELEMENTS} elements" in run.stderr


def test_a_feed_of_600000_empty_items_is_read_with_bounded_memory(tmp_path: Path) -> None:
    run = peak_rss("empty-items", tmp_path / "run")
    assert run.peak_mb < 200, run.stderr[-2000:]
    assert run.exit_code == 0, run.stderr[-2000:]
    assert f"lists more than {MAX_ITEMS} items; reading the first {MAX_ITEMS}" in run.stderr


def test_every_hostile_source_together_stays_under_400_mb(tmp_path: Path) -> None:
    run = peak_rss("all", tmp_path / "run")
    assert run.peak_mb < 400, run.stderr[-2000:]
    assert len(stored_titles(run.db, "10k-items")) == MAX_ITEMS
    assert len(stored_titles(run.db, "nested-divs")) == LISTING_LINKS


# -- feeds ---------------------------------------------------------------------------------------------------------


def rss(count: int, doctype: str = "") -> bytes:
    items = "".join(f"<item><title>Report {n}</title><link>http://news.example/{n}</link></item>" for n in range(count))
    return f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def parse(content: bytes, kind: str = "feed", **options: object) -> list[Article]:
    return SOURCE_KINDS[kind].parse(FetchResult(URL, URL, 200, content), source="s", options=options)


@pytest.mark.parametrize("doctype", ["", '<!DOCTYPE rss [<!ENTITY x "y">]>'], ids=["fast path", "feedparser"])
def test_a_feed_of_10000_items_gives_its_first_1000(doctype: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        articles = parse(rss(10_000, doctype))
    assert [a.title for a in articles] == [f"Report {n}" for n in range(MAX_ITEMS)]
    assert f"lists more than {MAX_ITEMS} items; reading the first {MAX_ITEMS}" in caplog.text
    assert "not well-formed" not in caplog.text  # the cut is ours, not the feed's


def test_both_parsers_read_a_cut_feed_alike() -> None:
    text = feed_mod._first_items(rss(MAX_FEED_ELEMENTS).decode(), URL, "s")
    fast = parse_simple(text, URL, cut=True)
    assert fast is not None and len(fast) == MAX_ITEMS
    reference = feed_mod._feedparser_items(text, URL, cut=True)
    assert feed_mod._articles(fast, URL, "s", None) == feed_mod._articles(reference, URL, "s", None)


def test_atom_and_json_feeds_give_their_first_1000_entries() -> None:
    entries = "".join(f"<entry><title>E{n}</title><link href='http://news.example/{n}'/></entry>" for n in range(1500))
    atom = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'.encode()
    items = ",".join(f'{{"id": "{n}", "url": "http://news.example/{n}", "title": "J{n}"}}' for n in range(1500))
    json_feed = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{items}]}}'.encode()
    assert [a.title for a in parse(atom)][-1] == f"E{MAX_ITEMS - 1}"
    assert [a.title for a in parse(json_feed)] == [f"J{n}" for n in range(MAX_ITEMS)]


def test_a_feed_with_too_many_elements_gives_the_items_before_them(caplog: pytest.LogCaptureFixture) -> None:
    head = rss(3).decode().removesuffix("</channel></rss>")
    monster = "<item><title>Monster</title><link>http://news.example/m</link>" + "<category/>" * MAX_FEED_ELEMENTS
    with caplog.at_level(logging.WARNING):
        articles = parse((head + monster + "</item></channel></rss>").encode())
    assert [a.title for a in articles] == ["Report 0", "Report 1", "Report 2"]
    assert f"has more than {MAX_FEED_ELEMENTS} elements; reading its first 3 items" in caplog.text
    with pytest.raises(ParseError, match=f"more than {MAX_FEED_ELEMENTS} elements before the end of its first item"):
        parse(rss(0).replace(b"</channel>", monster.encode() + b"</item></channel>"))


def test_a_json_feed_of_too_many_objects_is_refused() -> None:
    objects = ",".join(["{}"] * (MAX_FEED_ELEMENTS + 1))
    with pytest.raises(ParseError, match=f"more than {MAX_FEED_ELEMENTS} JSON objects"):
        parse(f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{objects}]}}'.encode())


def test_an_item_text_of_too_many_elements_is_read_up_to_the_bound() -> None:
    text = html_to_text("<b>x</b> " * (3 * MAX_HTML_ELEMENTS))
    assert text == " ".join(["x"] * MAX_HTML_ELEMENTS)


# -- pages ---------------------------------------------------------------------------------------------------------


def test_a_listing_gives_its_first_1000_links(caplog: pytest.LogCaptureFixture) -> None:
    links = "".join(f'<h2><a href="/{n}">Story {n}</a></h2>' for n in range(1500)).encode()
    with caplog.at_level(logging.WARNING):
        articles = parse(links, "html", link_selector="h2 a")
    assert [a.title for a in articles] == [f"Story {n}" for n in range(MAX_ITEMS)]
    assert f"lists more than {MAX_ITEMS} items" in caplog.text


def test_a_listing_of_nested_divs_gives_the_links_before_the_bound() -> None:
    assert len(parse(nested_divs(), "html", link_selector="h2 a")) == LISTING_LINKS


def test_an_article_page_is_read_up_to_the_bound() -> None:
    paragraphs = "".join(f"<p>Paragraph {n} of the ceasefire story.</p>" for n in range(2 * MAX_HTML_ELEMENTS))
    page = f"<html><body><article>{paragraphs}</article></body></html>"
    for selector in (None, "article"):
        body = extract_page(page, "http://news.example/a", selector).body
        assert "Paragraph 100 " in body and f"Paragraph {MAX_HTML_ELEMENTS + 100} " not in body


# -- memory given back ---------------------------------------------------------------------------------------------


async def test_memory_is_given_back_after_a_big_document(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(workers, "_malloc_trim", lambda: trims.append)
    pool = workers.Workers(Matcher([]))
    source = SourceConfig.model_validate({"name": "s", "url": URL})
    small, big = rss(10), rss(10).replace(b"<title>t</title>", b"<title>t</title><!--" + b" " * 2_000_000 + b"-->")
    await pool.parse(source, FetchResult(URL, URL, 200, small), frozenset())
    assert trims == []
    assert len(await pool.parse(source, FetchResult(URL, URL, 200, big), frozenset())) == 10
    assert trims == [0]
