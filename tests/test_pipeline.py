"""End to end: real loopback HTTP server, real SQLite, the seed fixtures and real feed files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.once import OnceResult, run_once
from monitor.store import open_store
from monitor.store.sqlite import SqliteStore
from tests.testdata import FEED_CORPUS, FEEDS, SEED_BODY, seed_source, write_config

# Polled by the many-formats test from the copies in tests/data, and from ../shared when it is there
COPIED_FEEDS = [
    "real/nodefeedparser_rss2sample.xml",
    "real/rssparser_rss-1.rss",
    "real/nodefeedparser_tpm.atom",
    "real/feedjira_json_feed_with_escaped_uris.json",
    "multilingual/nodefeedparser_iconv.xml",
    "multilingual/rssparser_encoding.rss",
]
CORPUS_FEEDS = [  # not copied: large, or no licence stated
    "real/rssparser_guardian.rss",
    "real/feedjira_json_feed.json",
    "multilingual/swelbyboy_azatutyun_hy.xml",
]


def once(path: Path, *, dry_run: bool = False) -> OnceResult:
    return asyncio.run(run_once(config_mod.load(path), dry_run=dry_run))


def test_seed_story_alerts_once_with_a_body_snippet_and_the_decoy_does_not(
    site: StaticSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, [seed_source(site)])
    first = once(path)
    assert [r.error for r in first.reports] == [None]
    assert len(first.alerts) == 1
    alert = first.alerts[0]
    assert alert.watchlist == "ceasefire"
    assert alert.url == "http://www.panarmenian.net/eng/news/escalation-karabakh/"  # rel=canonical honoured
    body = SEED_BODY.read_text(encoding="utf-8")
    assert alert.snippet.startswith("PanARMENIAN.Net - Azerbaijan on Tuesday, July 4 violated the ceasefire")
    assert alert.snippet in body  # the first strong mention, quoted from the body
    assert "Top stories" not in alert.snippet and "Partner" not in alert.snippet
    printed = capsys.readouterr().out
    assert "escalation in Karabakh" in printed and "apricot" not in printed.lower()

    again = once(path)
    assert again.alerts == []
    assert again.not_modified == 1  # conditional GET: the unchanged feed answered 304


def test_edit_that_adds_a_violation_alerts_as_updated_with_the_added_sentence(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site)])
    once(path)
    site.routes = seed_routes(site.base, "border-v2.html", "Thu, 06 Jul 2017 11:30:00 GMT")
    result = once(path)
    assert [(a.kind, a.url) for a in result.alerts] == [
        ("updated", "http://www.panarmenian.net/eng/news/border-villages/")
    ]
    (added,) = result.alerts[0].added
    assert added.startswith("Later on Thursday the defense ministry said the ceasefire had been violated")
    assert once(path).alerts == []


def test_a_304_causes_no_parse_and_no_page_fetch(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site)])
    once(path)
    pages_before = site.hits["/eng/news/escalation-karabakh/"]
    result = once(path)
    assert result.reports[0].status == 304 and result.reports[0].items == 0
    assert site.hits["/eng/news/escalation-karabakh/"] == pages_before


@pytest.mark.parametrize("backend", [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_304_saves_the_check_and_the_next_poll_keeps_the_validators_and_clears_the_errors(
    site: StaticSite, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    storage: dict[str, object] = {"path": "db.sqlite3"}  # on PostgreSQL too: `once` takes its lock beside it
    if backend == "postgres":
        storage["url"] = request.getfixturevalue("postgres_url")
    path = write_config(tmp_path, [seed_source(site)], storage=storage)
    once(path)
    store = open_store(config_mod.load(path))
    try:
        first = store.source_state("panarmenian")
        store.save_source_state(replace(first, error_count=2, last_error="HTTP 503", last_status=503))
        assert once(path).reports[0].status == 304
        after = store.source_state("panarmenian")
    finally:
        store.close()
    assert after.etag and (after.etag, after.last_modified) == (first.etag, first.last_modified)
    assert first.last_fetch and after.last_fetch and after.last_fetch > first.last_fetch
    assert (after.last_success, after.last_status, after.error_count, after.last_error) == (after.last_fetch, 304, 0,
                                                                                            None)
    assert after.next_due and after.interval
    assert abs((after.next_due - after.last_fetch).total_seconds() - after.interval) < 0.01


def test_same_article_through_two_sources_alerts_once(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site, "a"), seed_source(site, "b")])
    result = once(path)
    assert len(result.alerts) == 1
    assert once(path).alerts == []


def test_syndicated_copy_alerts_once_and_lists_the_other_outlet(tmp_path: Path) -> None:
    story = SEED_BODY.read_text(encoding="utf-8")

    def feed(outlet: str, extra: str) -> bytes:
        text = f"{extra} {story}".replace("&", "&amp;").replace("<", "&lt;")
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{outlet}</title>'
            f"<item><title>Ceasefire violated in Karabakh</title><link>http://{outlet}.example/story</link>"
            f"<description>{text}</description></item></channel></rss>"
        ).encode()

    routes = {
        "/one.xml": (feed("one", "By staff."), "application/rss+xml"),
        "/two.xml": (feed("two", "Reporting by a wire service."), "application/rss+xml"),
    }
    with StaticSite(routes) as server:
        path = write_config(
            tmp_path,
            [{"name": "one", "url": f"{server.base}/one.xml"}, {"name": "two", "url": f"{server.base}/two.xml"}],
        )
        result = once(path, dry_run=False)
    assert len(result.alerts) == 1
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        (recent,) = store.recent_alerts(5)
    finally:
        store.close()
    assert recent.source in {"one", "two"} and set(recent.also_in) == {"one", "two"} - {recent.source}


def test_dry_run_records_nothing(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site)])
    assert len(once(path, dry_run=True).alerts) == 1
    assert len(once(path, dry_run=True).alerts) == 1  # nothing was recorded, so it would alert again
    assert len(once(path).alerts) == 1


def test_real_feeds_in_many_formats_and_encodings_poll_without_errors(tmp_path: Path) -> None:
    files = [FEEDS / n for n in COPIED_FEEDS]
    if FEED_CORPUS.is_dir():
        files += [FEED_CORPUS / n for n in CORPUS_FEEDS]
    routes = {f"/{i}": (f.read_bytes(), "application/xml") for i, f in enumerate(files)}
    with StaticSite(routes) as server:
        path = write_config(tmp_path, [{"name": f"s{i}", "url": f"{server.base}/{i}"} for i in range(len(files))])
        result = once(path)
    assert [r.error for r in result.reports] == [None] * len(files)
    assert all(r.items > 0 for r in result.reports)
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        states = {s.name: s for s in store.source_states()}
    finally:
        store.close()
    assert all(states[f"s{i}"].last_status == 200 and states[f"s{i}"].error_count == 0 for i in range(len(files)))


def test_a_broken_source_is_recorded_and_backed_off_while_others_alert(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site), {"name": "gone", "url": f"{site.base}/missing.xml"}])
    result = once(path)
    by_name = {r.source: r for r in result.reports}
    assert by_name["gone"].error and "404" in by_name["gone"].error
    assert len(by_name["panarmenian"].alerts) == 1
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        gone = store.source_state("gone")
    finally:
        store.close()
    assert gone.error_count == 1 and gone.last_status == 404
    assert gone.next_due is not None and gone.last_fetch is not None and gone.next_due > gone.last_fetch


def test_html_listing_source_follows_links_and_alerts_on_the_body_only(site: StaticSite, tmp_path: Path) -> None:
    listing = (
        b"<html lang='en'><body><nav><a href='/about/'>About</a></nav><main>"
        b"<h2><a href='/eng/news/escalation-karabakh/?utm_source=home#top'>Escalation in Karabakh</a></h2>"
        b"<h2><a href='/eng/news/apricot-festival/'>Apricot festival</a></h2>"
        b"</main></body></html>"
    )
    site.routes["/eng/"] = (listing, "text/html; charset=utf-8")
    path = write_config(
        tmp_path,
        [
            {
                "name": "listing",
                "kind": "html",
                "url": f"{site.base}/eng/",
                "link_selector": "main h2 a",
                "fetch_article": True,
                "allow_private": True,
            }
        ],
    )
    result = once(path)
    assert result.reports[0].items == 2 and result.reports[0].error is None
    assert [a.url for a in result.alerts] == ["http://www.panarmenian.net/eng/news/escalation-karabakh/"]
    assert "/about/" not in site.hits and site.hits["/eng/news/apricot-festival/"] == 1


def test_article_links_to_private_addresses_are_refused_unless_the_source_opts_in(
    site: StaticSite, tmp_path: Path
) -> None:
    path = write_config(tmp_path, [{**seed_source(site), "allow_private": False}])
    result = once(path)
    assert result.alerts == [] and result.reports[0].error is None
    assert "/eng/news/escalation-karabakh/" not in site.hits  # the guard refused the loopback link


def test_short_guids_of_different_sites_do_not_merge_their_articles(tmp_path: Path) -> None:
    def feed(site: str) -> bytes:
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title><item>'
            f"<title>Ceasefire violated on the border, {site} reports</title><link>http://{site}.example/a</link>"
            "<guid isPermaLink='false'>1</guid><description>Shelling broke the ceasefire overnight.</description>"
            "</item></channel></rss>"
        ).encode()

    with StaticSite({"/f.xml": (feed("x"), "text/xml")}) as x, StaticSite({"/f.xml": (feed("y"), "text/xml")}) as y:
        sources: list[dict[str, object]] = [{"name": n, "url": f"{s.base}/f.xml"} for n, s in (("x", x), ("y", y))]
        result = once(write_config(tmp_path, sources))
    assert sorted(a.url for a in result.alerts) == ["http://x.example/a", "http://y.example/a"]


def test_a_poll_looks_its_items_up_once_and_writes_them_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statements run per poll, counted by a trace on every connection: an item more costs only its rows (a document's
    near duplicates are looked up together), and a document of any length is one transaction."""
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)  # Any: *args match several overloads of connect
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    text = " ".join(f"Farmers in the valley number {n} expect a good harvest of apricots this year." for n in range(6))

    def feed(size: int, batch: str) -> bytes:
        items = "".join(f"<item><title>Harvest {batch} {n}</title><link>https://farm.example/{batch}/{n}</link>"
                        f"<description>{text} ({batch} {n})</description></item>" for n in range(size))
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'.encode()

    with StaticSite({"/feed.xml": (feed(1, "first"), "application/rss+xml")}) as server:
        path = write_config(tmp_path, [{"name": "farm", "url": f"{server.base}/feed.xml"}])
        once(path)  # the database made, migrated and known to the source

        def cost(size: int, batch: str) -> Counter[str]:
            server.routes["/feed.xml"] = (feed(size, batch), "application/rss+xml")
            statements.clear()
            assert once(path).reports[0].new == size
            return Counter(sql.split(None, 1)[0].upper() for sql in statements)

        short, long = cost(10, "short"), cost(40, "long")
    assert long["BEGIN"] == short["BEGIN"]
    assert long.total() - short.total() == 2 * 30  # the article and its version
