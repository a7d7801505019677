"""The store's part of adaptive polling, on SQLite and PostgreSQL (the contract tests' `store` fixture): the
interval and its reason kept with the source's state, and the recent items counted per source."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.records import SourceState
from monitor.store import Store
from monitor.store import sqlite as sqlite_store
from monitor.store.migrations import apply_migrations

from .test_store import T0, Clock
from .test_store_contract import Reviser, article, candidate, clock, store  # noqa: F401 - the contract's fixtures

HOUR = timedelta(hours=1)


def test_the_interval_and_its_reason_are_kept_with_the_source_state(store: Store) -> None:  # noqa: F811
    state = SourceState("outlet", etag='"e"', next_due=T0 + HOUR, interval=144.0, interval_reason="25 new in 1h")
    store.save_source_state(state)
    assert store.source_state("outlet") == state
    assert store.source_states() == [state]
    store.save_source_state(SourceState("outlet"))
    assert store.source_state("outlet").interval is None and store.source_state("outlet").interval_reason is None


def test_new_items_count_what_arrived_per_window_by_date_else_first_seen(
    store: Store, clock: Clock  # noqa: F811
) -> None:
    def record(n: int, source: str = "outlet", published_ago: timedelta | None = None) -> None:
        item = replace(article(n, source=source), published=None if published_ago is None else T0 - published_ago)
        store.record([candidate(item)], revise=Reviser(), notifiers=(), listed=(), state=SourceState(source),
                     seen_at=clock.now)

    clock.now = T0 - 30 * HOUR
    record(1)  # undated, first seen 30 h ago
    clock.now = T0
    record(2)  # undated, first seen now
    record(3, published_ago=3 * HOUR)  # dated 3 h ago, first seen now: it arrived 3 h ago
    record(4, published_ago=-5 * HOUR)  # dated in 5 h: taken as arrived when first seen
    record(5, source="other")
    assert store.new_items("outlet", [T0 - HOUR, T0 - 24 * HOUR, T0 - 48 * HOUR]) == [2, 3, 4]
    assert store.new_items("outlet", [T0 + HOUR]) == [0]
    assert store.new_items("nobody", [T0 - HOUR]) == [0]


def test_poll_state_is_the_source_state_and_on_postgresql_its_new_items_too(
    store: Store, clock: Clock  # noqa: F811
) -> None:
    state = SourceState("outlet", etag='"e"', next_due=T0 + HOUR, interval=144.0, interval_reason="25 new in 1h")
    store.record([candidate(article(1))], revise=Reviser(), notifiers=(), listed=(), state=state, seen_at=clock.now)
    since = [T0 - HOUR, T0 + HOUR]
    for name, expected, new in (("outlet", state, [1, 0]), ("nobody", SourceState("nobody"), [0, 0])):
        found, counts = store.poll_state(name, since)
        assert found == expected
        assert counts == (None if isinstance(store, sqlite_store.SqliteStore) else new)  # SQLite: asked when needed


@pytest.mark.parametrize("backend", [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_store_of_before_adaptive_polling_keeps_its_sources_when_migrated(
    request: pytest.FixtureRequest, backend: str
) -> None:
    """The source-state columns come with a migration: a source saved before it reads back with no interval yet."""
    insert = "INSERT INTO sources (name, etag, error_count) VALUES ('outlet', 'e', 2)"
    if backend == "sqlite":
        path = request.getfixturevalue("tmp_path") / "old.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        apply_migrations(conn, "core", sqlite_store.CORE_MIGRATIONS[:4])  # v5 added the interval
        conn.execute(insert)
        conn.close()
        store: Store = sqlite_store.SqliteStore(path)
    else:
        from monitor.store import postgres as postgres_store

        url = request.getfixturevalue("postgres_url")  # the current schema: rebuilt as it was before
        with postgres_store.connect(url) as pg:
            pg.execute("DROP TABLE sources, source_health; ALTER TABLE articles DROP COLUMN page_checked,"
                       " DROP COLUMN page_url; DELETE FROM schema_migrations WHERE component = 'core' AND version > 1")
            pg.execute(postgres_store.CORE_MIGRATIONS[0].split("CREATE TABLE articles")[0])
            pg.execute(insert)
        store = postgres_store.PostgresStore(url)
    try:
        assert store.source_state("outlet") == SourceState("outlet", etag="e", error_count=2)
        store.save_source_state(replace(store.source_state("outlet"), interval=60.0, interval_reason="fixed interval"))
        assert store.source_state("outlet").interval_reason == "fixed interval"
    finally:
        store.close()
