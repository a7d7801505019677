"""Retention on a real SQLite file: old articles, versions and delivered alerts go; owed and recent ones stay."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.diff import fingerprint
from monitor.records import Article, Match
from monitor.service import run_once
from monitor.store.retention import prune, prune_file, pruned_before
from monitor.store.sqlite import SqliteStore

from .test_pipeline import seed_source, write_config

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
    assert pruned_before(path) == T0 + timedelta(days=100)
    assert path.stat().st_size < before / 5

    again = prune_file(path, T0 + timedelta(days=100))
    assert not again.removed["articles"] and not again.vacuumed
    store = SqliteStore(path)
    assert count(store.connection, "articles") == 1
    store.close()


def test_items_older_than_a_pruning_never_alert_again(tmp_path: Path) -> None:
    with StaticSite({}) as site:
        site.routes = seed_routes(site.base)
        path = write_config(tmp_path, [seed_source(site)])
        settings = config_mod.load(path)
        assert pruned_before(settings.db_path) is None
        prune_file(settings.db_path, datetime.now(UTC) - timedelta(days=90))  # nothing to prune, but it ran
        result = asyncio.run(run_once(settings))
    assert result.alerts == [] and result.reports[0].error is None  # the 2017 seed story is past retention
