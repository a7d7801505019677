"""One time encoding per database: the tg_* tables keep times as the core tables do (ISO-8601 UTC text in SQLite,
timestamptz in PostgreSQL), and a SQLite database made when they kept unix time (REAL) is converted when it opens,
keeping every owed delivery, its due time and order, mutes and dead letters."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.records import Alert, format_datetime
from monitor.store.migrations import apply_migrations, schema_version
from monitor.store.sqlite import CORE_MIGRATIONS, SqliteStore
from monitor.store.telegram import TELEGRAM_MIGRATIONS, Delivery, period_end
from tests.telegram_support import NOTIFIER, EitherStore, chat_of, make_alert

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOURLY = period_end("hourly", NOW)
# The times of the Telegram tables, and one of the core's to compare them with.
TIME_COLUMNS = (
    ("tg_chats", "muted_until"), ("tg_chats", "created"), ("tg_subscriptions", "created"),
    ("tg_deliveries", "due"), ("tg_deliveries", "sent_at"), ("tg_deliveries", "failed_at"),
)
CORE_TIME = ("alerts", "created")


def write_every_time(store: EitherStore) -> None:
    """A chat muted, subscribed, with a delivery sent and one given up on: every Telegram time column set."""
    store.register_chat("1", "private", "one", NOW)
    store.subscribe("1", "ceasefire", NOW)
    store.set_muted("1", NOW + MINUTE)
    first, second = make_alert(store), make_alert(store)
    store.set_muted("1", None)
    store.fan_out(NOTIFIER, first, NOW, lambda _: True)
    store.fan_out(NOTIFIER, second, NOW, lambda _: True)
    store.mark_sent([store.due_deliveries(NOTIFIER, NOW)[0].id], NOW)
    store.fail_delivery(store.due_deliveries(NOTIFIER, NOW)[0].id, "refused", NOW)
    store.set_muted("1", NOW + MINUTE)


def written_as(value: object) -> str:
    """How SQLite holds a time: as the core's text (what records.format_datetime writes), or what else."""
    try:
        if isinstance(value, str) and format_datetime(datetime.fromisoformat(value)) == value:
            return "ISO-8601 UTC text"
    except ValueError:
        pass
    return f"{type(value).__name__} {value!r}"


@pytest.mark.parametrize("backend", [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_telegram_tables_keep_times_as_the_core_tables_do(request: pytest.FixtureRequest, backend: str) -> None:
    store: EitherStore
    if backend == "sqlite":
        store = SqliteStore(request.getfixturevalue("tmp_path") / "monitor.sqlite3")
        conn = store.conn
        write_every_time(store)

        def encoding(table: str, column: str) -> tuple[str, ...]:
            declared = {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({table})")}[column]
            values = conn.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
            return declared, *sorted({written_as(v) for (v,) in values})
    else:
        from monitor.store import postgres as postgres_store

        url = request.getfixturevalue("postgres_url")
        store = postgres_store.PostgresStore(url)
        write_every_time(store)

        def encoding(table: str, column: str) -> tuple[str, ...]:
            with postgres_store.connect(url) as pg:
                row = pg.execute("SELECT data_type FROM information_schema.columns WHERE table_name = %s"
                                 " AND column_name = %s", (table, column)).fetchone()
            assert row is not None
            return (str(row[0]),)
    try:
        core = encoding(*CORE_TIME)
        assert core in {("TEXT", "ISO-8601 UTC text"), ("timestamp with time zone",)}
        assert {column: encoding(*column) for column in TIME_COLUMNS} == {column: core for column in TIME_COLUMNS}
    finally:
        store.close()


# The Telegram rows of a database made before version 4, with the times the old code wrote (datetime.timestamp()).
CHATS = [  # chat, active, muted_until, digest
    ("muted", 1, NOW + 60 * MINUTE, "off"),
    ("open", 1, None, "off"),
    ("unmuted", 1, NOW - MINUTE, "off"),  # its mute ran out
    ("digest", 1, None, "hourly"),
    ("gone", 0, None, "off"),
]
CHAT_CREATED, SUBSCRIBED = NOW - 60 * MINUTE, NOW - 59 * MINUTE
DELIVERIES = [  # id (with gaps, as retention leaves them), chat, alert, digest, status, due, attempts, strikes,
    # sent_at, failed_at
    (10, "open", 0, "off", "owed", NOW - 2 * MINUTE, 0, 0, None, None),
    (20, "open", 1, "off", "owed", NOW - 3 * MINUTE, 0, 0, None, None),  # behind the chat's first
    (30, "muted", 0, "off", "owed", NOW + MINUTE / 2, 1, 1, None, None),  # a retry, not due yet
    (40, "digest", 0, "hourly", "owed", HOURLY, 0, 0, None, None),
    (50, "unmuted", 0, "off", "sent", NOW - 30 * MINUTE, 0, 0, NOW - 29 * MINUTE, None),
    (60, "unmuted", 1, "off", "failed", NOW - 20 * MINUTE, 3, 3, None, NOW - 10 * MINUTE),
    (70, "gone", 0, "off", "dropped", NOW - 20 * MINUTE, 0, 0, None, None),
]
# The due deliveries (the head of each chat's queue), as the old code asked for them, with unix times.
OLD_DUE = (
    "SELECT d.id FROM tg_deliveries d WHERE d.notifier = ? AND d.status = 'owed' AND d.alert_id = (SELECT"
    " MIN(x.alert_id) FROM tg_deliveries x WHERE x.notifier = d.notifier AND x.chat = d.chat AND x.status = 'owed')"
    " AND d.due <= ? ORDER BY d.alert_id, d.id"
)
INSTANTS = (NOW - 2 * MINUTE - timedelta(microseconds=1), NOW - 2 * MINUTE, NOW, NOW + MINUTE, HOURLY)
INDEXES = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name LIKE 'tg_%'"


def unix(value: datetime | None) -> float | None:
    """A time as the Telegram tables kept it before version 4."""
    return None if value is None else value.timestamp()


def text(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


@dataclass
class OldDatabase:
    path: Path
    alerts: list[Alert]
    due: dict[datetime, list[int]]  # the ids due at each of INSTANTS, before the conversion
    indexes: set[tuple[str, str]]


@pytest.fixture
def old_database(tmp_path: Path) -> OldDatabase:
    """A SQLite database with the Telegram tables of version 3 (unix times) and the rows above."""
    path = tmp_path / "old.sqlite3"
    store = SqliteStore(path, clock=lambda: NOW)  # alerts made the real way; then the Telegram tables as they were
    alerts = [make_alert(store, title=f"Story {n}") for n in range(3)]
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript("DROP TABLE tg_deliveries; DROP TABLE tg_subscriptions; DROP TABLE tg_chats;"
                       " DELETE FROM schema_migrations WHERE component = 'telegram';")
    apply_migrations(conn, "telegram", TELEGRAM_MIGRATIONS[:3])  # released migrations are never edited
    for chat, active, muted, digest in CHATS:
        conn.execute("INSERT INTO tg_chats (chat, kind, active, muted_until, digest, created)"
                     " VALUES (?, 'private', ?, ?, ?, ?)", (chat, active, unix(muted), digest, unix(CHAT_CREATED)))
        conn.execute("INSERT INTO tg_subscriptions (chat, watchlist, created, filter) VALUES (?, 'ceasefire', ?, ?)",
                     (chat, unix(SUBSCRIBED), "Karabakh" if chat == "open" else None))
    for i, chat, alert, digest, status, due, attempts, strikes, sent, failed in DELIVERIES:
        conn.execute(
            "INSERT INTO tg_deliveries (id, notifier, chat, alert_id, digest, status, due, attempts, strikes,"
            " sent_at, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (i, NOTIFIER, chat, alerts[alert].id, digest, status, unix(due), attempts, strikes, unix(sent),
             unix(failed)),
        )
    due_before = {at: [r[0] for r in conn.execute(OLD_DUE, (NOTIFIER, unix(at)))] for at in INSTANTS}
    indexes = set(conn.execute(INDEXES).fetchall())
    conn.close()
    return OldDatabase(path, alerts, due_before, indexes)


def test_a_database_made_when_the_telegram_tables_kept_unix_time_keeps_every_time_as_text(
    old_database: OldDatabase,
) -> None:
    store = SqliteStore(old_database.path, clock=lambda: NOW)
    try:
        db = store.conn
        assert schema_version(db, "telegram") == len(TELEGRAM_MIGRATIONS)
        assert db.execute("SELECT chat, muted_until, created FROM tg_chats ORDER BY chat").fetchall() == sorted(
            (chat, text(muted), text(CHAT_CREATED)) for chat, _, muted, _ in CHATS
        )
        assert db.execute("SELECT DISTINCT created FROM tg_subscriptions").fetchall() == [(text(SUBSCRIBED),)]
        assert db.execute("SELECT id, status, due, sent_at, failed_at, attempts, strikes FROM tg_deliveries"
                          " ORDER BY id").fetchall() == [
            (i, status, text(due), text(sent), text(failed), attempts, strikes)
            for i, _, _, _, status, due, attempts, strikes, sent, failed in DELIVERIES
        ]
        assert set(db.execute(INDEXES).fetchall()) == old_database.indexes
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert [r[2] for r in db.execute("PRAGMA foreign_key_list(tg_subscriptions)")] == ["tg_chats"]
        assert [r[2] for r in db.execute("PRAGMA foreign_key_list(tg_deliveries)")] == ["alerts"]  # retention's way
        assert db.execute("SELECT name FROM sqlite_master WHERE name LIKE '%unix%'").fetchall() == []
        assert db.execute("SELECT name FROM sqlite_temp_master").fetchall() == []
    finally:
        store.close()


def test_a_database_made_when_the_telegram_tables_kept_unix_time_owes_what_it_owed(
    old_database: OldDatabase,
) -> None:
    store = SqliteStore(old_database.path, clock=lambda: NOW)
    first, second, third = (alert.id for alert in old_database.alerts)
    try:
        assert {at: [d.id for d in store.due_deliveries(NOTIFIER, at)] for at in INSTANTS} == old_database.due
        assert old_database.due[NOW] == [10] and old_database.due[HOURLY] == [10, 30, 40]  # the fixture's own check
        due = Delivery(10, "open", first, "off", 0, "private", NOW - 2 * MINUTE)
        assert store.due_deliveries(NOTIFIER, NOW) == [due]
        assert store.next_due(NOTIFIER) == NOW - 2 * MINUTE
        assert store.digest_batch(NOTIFIER, "digest", HOURLY - timedelta(microseconds=1)) == []
        assert [d.id for d in store.digest_batch(NOTIFIER, "digest", HOURLY)] == [40]
        store.mark_sent([10], NOW)
        assert [(d.id, d.alert_id) for d in store.due_deliveries(NOTIFIER, NOW)] == [(20, second)]
        assert store.telegram_stats(NOTIFIER).owed == 3

        assert [c for c, *_ in CHATS if chat_of(store, c).muted(NOW)] == ["muted"]
        assert chat_of(store, "muted").muted_until == NOW + 60 * MINUTE
        assert store.filters("open") == {"ceasefire": "Karabakh"}
        assert store.fan_out(NOTIFIER, old_database.alerts[2], NOW, lambda _: True) == 3  # open, unmuted, digest
        assert store.conn.execute("SELECT MIN(id) FROM tg_deliveries WHERE alert_id = ?", (third,)).fetchone()[0] > 70

        # the dead letter, by its failed_at: counted, then owed again
        assert store.telegram_dead_letters(NOW - 10 * MINUTE) == 1
        assert store.telegram_dead_letters(NOW - 10 * MINUTE + timedelta(microseconds=1)) == 0
        assert store.redeliver(NOW - 10 * MINUTE) == (0, 1)
        assert [d.id for d in store.due_deliveries(NOTIFIER, NOW)] == [20, 60]
    finally:
        store.close()


def test_the_conversion_keeps_every_microsecond_of_the_times_the_old_code_wrote() -> None:
    """Times of this century to the microsecond, as unix time (REAL), come out as records.format_datetime writes
    them (a double holds a unix time of before 2100 to well within a microsecond)."""
    rng = random.Random(15)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    times = [start + timedelta(microseconds=rng.randrange(100 * 365 * 86400 * 10**6)) for _ in range(2000)]
    times += [HOURLY - timedelta(microseconds=1), HOURLY, NOW.replace(microsecond=500000), NOW.replace(microsecond=1)]
    conn = sqlite3.connect(":memory:", isolation_level=None)
    apply_migrations(conn, "core", CORE_MIGRATIONS)
    apply_migrations(conn, "telegram", TELEGRAM_MIGRATIONS[:3])
    conn.executemany("INSERT INTO tg_chats (chat, kind, created) VALUES (?, 'private', ?)",
                     [(str(n), unix(t)) for n, t in enumerate(times)])
    apply_migrations(conn, "telegram", TELEGRAM_MIGRATIONS)
    converted = dict(conn.execute("SELECT chat, created FROM tg_chats").fetchall())
    assert [converted[str(n)] for n in range(len(times))] == [format_datetime(t) for t in times]
