"""Retention on a real SQLite file: old articles, versions and delivered alerts go; owed and recent ones stay."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.fingerprint import fingerprint
from monitor.metrics import Metrics
from monitor.records import Article, Match
from monitor.store.retention import PruneReport, prune
from monitor.store.sqlite import SqliteStore
from tests.testdata import write_config

from .servers import LoopbackServer
from .test_health import sample
from .test_pipeline import once

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MATCH = Match("ceasefire", "ceasefire", ("ceasefire",), "The ceasefire was violated.")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def save(store: SqliteStore, n: int, text: str, *, match: bool = False) -> int | None:
    article = Article(url=f"https://news.example/{n}", source="outlet", title=f"Story {n}", body=text, guid=f"g{n}")
    alerts = store.save_article(
        article, fingerprint=fingerprint(text), kind="new", matches=[MATCH] if match else [], notifiers=["out"]
    )
    return alerts[0].id if alerts else None


def prune_file(path: Path, older_than: datetime) -> PruneReport:
    """Retention as the service runs it, through the store of the file."""
    store = SqliteStore(path)
    try:
        return store.prune(older_than)
    finally:
        store.close()


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_prune_keeps_owed_and_recent_and_drops_the_rest(tmp_path: Path) -> None:
    clock = Clock()
    store = SqliteStore(tmp_path / "db.sqlite3", clock=clock)
    delivered = save(store, 1, "The ceasefire was violated at dawn.", match=True)
    owed = save(store, 2, "The ceasefire was violated again at noon.", match=True)
    save(store, 3, "Apricot festival opens.")
    save(store, 4, "First version of a long-running story.")
    assert delivered is not None and owed is not None
    store.mark_delivered(delivered, "out")
    clock.now = T0 + timedelta(days=100)
    save(store, 4, "Second version of a long-running story, edited much later.")  # seen again: stays
    save(store, 5, "A story of today.")
    conn = store.connection
    conn.execute(
        "UPDATE articles SET duplicate_of = (SELECT id FROM articles WHERE guid = 'g3') WHERE guid = 'g5'"
    )  # a recent copy of an old story

    report = prune(conn, T0 + timedelta(days=10))

    remaining = {r[0] for r in conn.execute("SELECT guid FROM articles")}
    assert remaining == {"g2", "g4", "g5"}  # g2's alert is still owed
    assert report.removed["articles"] == 2 and report.removed["outbox"] == 1 and report.removed["alerts"] == 1
    assert [r[0] for r in conn.execute("SELECT id FROM alerts")] == [owed]
    assert store.outbox_depth() == 1
    assert conn.execute("SELECT duplicate_of FROM articles WHERE guid = 'g5'").fetchone()[0] is None
    versions = conn.execute("SELECT v.text FROM article_versions v JOIN articles a ON a.id = v.article_id"
                            " WHERE a.guid = 'g4'").fetchall()
    assert versions == [("Second version of a long-running story, edited much later.",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert store.find_article("", "g1") is None and store.find_article("", "g2") is not None
    store.close()


def test_vacuum_only_when_worthwhile_and_the_file_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    clock = Clock()
    store = SqliteStore(path, clock=clock)
    filler = "Lorem ipsum dolor sit amet, a long story about nothing in particular. " * 60
    for n in range(1100):
        save(store, n, f"{n} {filler}")
    clock.now = T0 + timedelta(days=200)
    save(store, 99999, "A story of today.")
    store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = path.stat().st_size

    report = prune_file(path, T0 + timedelta(days=100))
    assert report.removed["articles"] == 1100 and report.vacuumed
    assert path.stat().st_size < before / 5

    again = prune_file(path, T0 + timedelta(days=100))
    assert not again.removed["articles"] and not again.vacuumed
    store = SqliteStore(path)
    assert count(store.connection, "articles") == 1
    store.close()


VIOLATION = "Azerbaijan and Armenia accused each other of violating the ceasefire on the border overnight."


def rss(*items: tuple[int, str, str, str]) -> bytes:
    """An RSS 2.0 feed of (n, title, description, RFC 822 date) items."""
    body = "".join(
        f"<item><title>{title}</title><link>https://old.example/{n}</link><guid>g{n}</guid>"
        f"<pubDate>{date}</pubDate><description>{text}</description></item>"
        for n, title, text, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>old</title>{body}</channel></rss>'.encode()


def feed_config(tmp_path: Path, server: LoopbackServer, **source: object) -> Path:
    return write_config(tmp_path, [{"name": "old", "url": server.url("/feed.xml"), **source}])


def test_after_a_pruning_an_item_dated_years_ago_is_news_and_an_old_articles_edit_is_seen(
    http_server: LoopbackServer, tmp_path: Path
) -> None:
    harvest = (1, "Apricot harvest", "Farmers expect a record apricot harvest.", "Mon, 04 May 2015 10:00:00 GMT")
    http_server.route("/feed.xml", rss(harvest))
    path = feed_config(tmp_path, http_server)
    assert once(path).alerts == []  # stored, dated 2015
    prune_file(tmp_path / "db.sqlite3", datetime.now(UTC) - timedelta(days=90))  # retention ran: nothing to prune
    edited = (*harvest[:2], f"{harvest[2]} {VIOLATION}", harvest[3])
    stale = (2, "Border clash", VIOLATION.replace("overnight", "on Sunday"), "Tue, 01 May 2012 08:00:00 GMT")
    http_server.route("/feed.xml", rss(edited, stale))
    result = once(path)
    assert sorted((a.kind, a.url) for a in result.alerts) == [
        ("new", "https://old.example/2"), ("updated", "https://old.example/1")
    ]


@pytest.mark.parametrize("changed", [True, False], ids=["feed-changed", "feed-304"])
def test_an_article_its_feed_still_lists_is_not_pruned_and_never_alerts_twice(
    http_server: LoopbackServer, tmp_path: Path, changed: bool
) -> None:
    story = (1, "Ceasefire violated", VIOLATION, "Mon, 04 May 2015 10:00:00 GMT")
    harvest = (2, "Apricot harvest", "A record harvest.", "Tue, 05 May 2015 10:00:00 GMT")
    festival = (3, "Apricot festival", "The festival opens.", "Wed, 06 May 2015 10:00:00 GMT")
    http_server.route("/feed.xml", rss(story))
    path = feed_config(tmp_path, http_server)
    assert len(once(path).alerts) == 1
    long_ago = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="microseconds")
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    with conn:
        conn.execute("UPDATE articles SET first_seen = ?, last_seen = ?", (long_ago, long_ago))  # stored 100 days ago
    conn.close()
    if changed:  # a new item beside the story: seen today, like the story
        http_server.route("/feed.xml", rss(story, harvest))
    assert once(path).reports[0].status == (200 if changed else 304)
    report = prune_file(tmp_path / "db.sqlite3", datetime.now(UTC) - timedelta(days=90))
    assert report.removed["articles"] == 0
    http_server.route("/feed.xml", rss(story, harvest, festival))
    assert once(path).alerts == []


def test_items_skipped_are_counted_and_logged_and_deferred_ones_are_read_at_the_next_poll(
    http_server: LoopbackServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = f"<html><body><article><h1>Border clash</h1><p>{VIOLATION}</p></article></body></html>".encode()
    stories = [(n, f"Border clash {n}", "Teaser.", "Mon, 04 May 2015 10:00:00 GMT") for n in (1, 2)]
    http_server.route("/feed.xml", rss(stories[0], *stories).replace(b"https://old.example", http_server.base.encode()))
    for n in (1, 2):
        http_server.route(f"/{n}", page.replace(b"clash", f"clash {n}".encode()), content_type="text/html")
    path = feed_config(tmp_path, http_server, fetch_article=True, allow_private=True, max_articles=1)
    with caplog.at_level(logging.INFO, logger="monitor.pipeline"):
        first = once(path).reports[0]
    assert first.skipped == {"repeated": 1, "deferred": 1} and first.new == 1
    assert any("skipped 2 item(s)" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    second = once(path).reports[0]
    assert second.status == 200 and second.new == 1 and http_server.hits["/2"] == 1  # not a 304: read the rest
    assert once(path).reports[0].status == 304
    metrics = Metrics()
    metrics.observe_poll(first, 0.1)
    text = metrics.render().decode()
    assert sample(text, "monitor_items_skipped_total", source="old", reason="deferred") == 1
    assert sample(text, "monitor_items_skipped_total", source="old", reason="repeated") == 1
