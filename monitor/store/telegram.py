"""Telegram subscribers, subscriptions, mutes, digests and per-chat deliveries.

`TelegramStore` is the interface the bot and the notifier depend on; `TelegramStoreMixin` holds
its SQL for a SQLite store that exposes its connection as `self.conn` (autocommit mode) and its
alerts through `alert` (see `SqliteStore`). The schema is the "telegram" migration
component, applied on first use. A subscription may carry a filter: a query (text) that an alert's
article must also match to be owed to that chat; `fan_out` asks the caller which filters admit an alert.

Times are kept as the core tables keep them: in SQLite ISO-8601 UTC text (`sqlite_time`, which sorts as the
times do: due, mute and dead-letter comparisons are text ones), in PostgreSQL timestamptz. Version 4 converted the
unix time (REAL) these tables kept before.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from monitor.records import Alert
from monitor.store import StoredArticle
from monitor.store.migrations import apply_migrations
from monitor.store.sqlite_time import from_text, to_text
from monitor.store.sqlite_transaction import immediate

DigestMode = Literal["off", "hourly", "daily"]
DIGEST_PERIODS: dict[str, int] = {"hourly": 3600, "daily": 86400}

TELEGRAM_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tg_chats (
        chat TEXT PRIMARY KEY,  -- numeric chat id as text, or '@channelname'
        kind TEXT NOT NULL,  -- private, group, supergroup, channel
        title TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT,
        muted_until REAL,  -- unix time
        digest TEXT NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'hourly', 'daily')),
        origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('user', 'config')),
        created REAL NOT NULL
    );
    CREATE TABLE tg_subscriptions (
        chat TEXT NOT NULL REFERENCES tg_chats (chat),
        watchlist TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (chat, watchlist)
    );
    CREATE INDEX tg_subscriptions_watchlist ON tg_subscriptions (watchlist);
    -- One row per alert owed to one chat; owed until Telegram accepted it.
    CREATE TABLE tg_deliveries (
        id INTEGER PRIMARY KEY,
        notifier TEXT NOT NULL,
        chat TEXT NOT NULL,
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        digest TEXT NOT NULL DEFAULT 'off',
        status TEXT NOT NULL DEFAULT 'owed' CHECK (status IN ('owed', 'sent', 'failed', 'dropped')),
        due REAL NOT NULL,  -- unix time of the next attempt
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at REAL,
        UNIQUE (notifier, chat, alert_id)
    );
    CREATE INDEX tg_deliveries_queue ON tg_deliveries (notifier, status, chat, alert_id);
    """,
    # Dead letters: failed attempts that count towards the notifier's max_attempts, and when one was given up on.
    """
    ALTER TABLE tg_deliveries ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tg_deliveries ADD COLUMN failed_at REAL;
    CREATE INDEX tg_deliveries_dead_letters ON tg_deliveries (failed_at) WHERE status = 'failed';
    """,
    # Subscriber filters: a subscription's own query (NULL: every alert of its watch list).
    """
    ALTER TABLE tg_subscriptions ADD COLUMN filter TEXT;
    CREATE INDEX tg_subscriptions_filtered ON tg_subscriptions (watchlist, filter) WHERE filter IS NOT NULL;
    """,
    # One time encoding in the database: these tables' times as the core's (ISO-8601 UTC text, `sqlite_time`), where
    # they were unix time (REAL). SQLite cannot change a column's type, so the tables are built again and their rows
    # copied, ids and all. Each old table is renamed first, which points the foreign keys of the others at it: none
    # dangles while foreign keys are on (a migration's transaction cannot switch them off). temp.tg_unix_times holds
    # each time once, converted to the microsecond as records.format_datetime writes it.
    """
    DROP INDEX tg_subscriptions_watchlist;
    DROP INDEX tg_subscriptions_filtered;
    DROP INDEX tg_deliveries_queue;
    DROP INDEX tg_deliveries_dead_letters;
    ALTER TABLE tg_chats RENAME TO tg_chats_unix;
    ALTER TABLE tg_subscriptions RENAME TO tg_subscriptions_unix;
    ALTER TABLE tg_deliveries RENAME TO tg_deliveries_unix;
    CREATE TEMP TABLE tg_unix_times (unix REAL PRIMARY KEY, iso TEXT NOT NULL);
    INSERT INTO temp.tg_unix_times (unix, iso)
        SELECT unix, strftime('%Y-%m-%dT%H:%M:%S', us / 1000000, 'unixepoch') || printf('.%06d+00:00', us % 1000000)
        FROM (SELECT unix, CAST(round(unix * 1000000) AS INTEGER) AS us FROM (
            SELECT muted_until AS unix FROM tg_chats_unix UNION SELECT created FROM tg_chats_unix
            UNION SELECT created FROM tg_subscriptions_unix UNION SELECT due FROM tg_deliveries_unix
            UNION SELECT sent_at FROM tg_deliveries_unix UNION SELECT failed_at FROM tg_deliveries_unix
        ) WHERE unix IS NOT NULL);
    CREATE TABLE tg_chats (
        chat TEXT PRIMARY KEY,  -- numeric chat id as text, or '@channelname'
        kind TEXT NOT NULL,  -- private, group, supergroup, channel
        title TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT,
        muted_until TEXT,
        digest TEXT NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'hourly', 'daily')),
        origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('user', 'config')),
        created TEXT NOT NULL
    );
    CREATE TABLE tg_subscriptions (
        chat TEXT NOT NULL REFERENCES tg_chats (chat),
        watchlist TEXT NOT NULL,
        created TEXT NOT NULL,
        filter TEXT,  -- the subscription's own query (NULL: every alert of its watch list)
        PRIMARY KEY (chat, watchlist)
    );
    -- One row per alert owed to one chat; owed until Telegram accepted it.
    CREATE TABLE tg_deliveries (
        id INTEGER PRIMARY KEY,
        notifier TEXT NOT NULL,
        chat TEXT NOT NULL,
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        digest TEXT NOT NULL DEFAULT 'off',
        status TEXT NOT NULL DEFAULT 'owed' CHECK (status IN ('owed', 'sent', 'failed', 'dropped')),
        due TEXT NOT NULL,  -- the next attempt
        attempts INTEGER NOT NULL DEFAULT 0,
        strikes INTEGER NOT NULL DEFAULT 0,  -- failed attempts that count towards the notifier's max_attempts
        last_error TEXT,
        sent_at TEXT,
        failed_at TEXT,  -- when it was given up on (a dead letter)
        UNIQUE (notifier, chat, alert_id)
    );
    INSERT INTO tg_chats (chat, kind, title, active, inactive_reason, muted_until, digest, origin, created)
        SELECT c.chat, c.kind, c.title, c.active, c.inactive_reason,
            (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = c.muted_until), c.digest, c.origin,
            (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = c.created)
        FROM tg_chats_unix c;
    INSERT INTO tg_subscriptions (chat, watchlist, created, filter)
        SELECT s.chat, s.watchlist, (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = s.created), s.filter
        FROM tg_subscriptions_unix s;
    INSERT INTO tg_deliveries
        (id, notifier, chat, alert_id, digest, status, due, attempts, strikes, last_error, sent_at, failed_at)
        SELECT d.id, d.notifier, d.chat, d.alert_id, d.digest, d.status,
            (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = d.due), d.attempts, d.strikes, d.last_error,
            (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = d.sent_at),
            (SELECT t.iso FROM temp.tg_unix_times t WHERE t.unix = d.failed_at)
        FROM tg_deliveries_unix d;
    DROP TABLE temp.tg_unix_times;
    DROP TABLE tg_deliveries_unix;
    DROP TABLE tg_subscriptions_unix;
    DROP TABLE tg_chats_unix;
    CREATE INDEX tg_subscriptions_watchlist ON tg_subscriptions (watchlist);
    CREATE INDEX tg_subscriptions_filtered ON tg_subscriptions (watchlist, filter) WHERE filter IS NOT NULL;
    CREATE INDEX tg_deliveries_queue ON tg_deliveries (notifier, status, chat, alert_id);
    CREATE INDEX tg_deliveries_dead_letters ON tg_deliveries (failed_at) WHERE status = 'failed';
    """,
)

_HEAD = (
    "d.notifier = ? AND d.status = 'owed' AND d.alert_id = (SELECT MIN(x.alert_id) FROM tg_deliveries x"
    " WHERE x.notifier = d.notifier AND x.chat = d.chat AND x.status = 'owed')"
)


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat the bot knows: a user, a group, or a channel target from the config."""

    chat: str
    kind: str
    title: str
    active: bool
    muted_until: datetime | None
    digest: DigestMode
    origin: str

    def muted(self, now: datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert owed to one chat."""

    id: int
    chat: str
    alert_id: int
    digest: DigestMode
    attempts: int
    kind: str  # the chat's kind ('' when the chat is unknown)
    due: datetime
    strikes: int = 0  # failed attempts that count towards max_attempts (not those of an outage)


@dataclass(frozen=True, slots=True)
class TelegramStats:
    chats: dict[str, int]  # active chats that follow a watch list, per kind
    inactive: int  # inactive chats that followed one
    subscriptions: dict[str, int]  # active subscribers per watch list
    owed: int  # deliveries not yet accepted by Telegram


def period_end(mode: DigestMode, now: datetime) -> datetime:
    """When the digest period containing `now` ends (UTC hours and days); `now` for 'off'."""
    if mode == "off":
        return now
    period = DIGEST_PERIODS[mode]
    return datetime.fromtimestamp((int(now.timestamp()) // period + 1) * period, UTC)


class TelegramStore(ABC):
    """What the Telegram bot and notifier need from the store."""

    # from the core store
    @abstractmethod
    def alert(self, alert_id: int) -> Alert: ...

    @abstractmethod
    def find_articles(self, keys: Sequence[tuple[str, str | None]]) -> list[StoredArticle | None]: ...

    @abstractmethod
    def recent_alerts(
        self, limit: int = 5, watchlists: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[Alert]:
        """The newest alerts first, of `watchlists` (None: all) and created at or after `since` (None: ever)."""

    @abstractmethod
    def stats_since(self, since: datetime) -> dict[str, int]:
        """Alerts created at or after `since`, per watch list."""

    # chats and subscriptions
    @abstractmethod
    def register_chat(self, chat: str, kind: str, title: str, now: datetime) -> Chat:
        """Record (or refresh) a chat that talked to the bot; an inactive chat becomes active again."""

    @abstractmethod
    def chat(self, chat: str) -> Chat | None: ...

    @abstractmethod
    def subscribe(self, chat: str, watchlist: str, now: datetime) -> bool:
        """Subscribe; False when already subscribed."""

    @abstractmethod
    def unsubscribe(self, chat: str, watchlist: str) -> bool:
        """Unsubscribe; False when not subscribed."""

    @abstractmethod
    def subscriptions(self, chat: str) -> list[str]: ...

    @abstractmethod
    def set_filter(self, chat: str, watchlist: str, query: str | None) -> bool:
        """Narrow a subscription to alerts whose article also matches `query` (None: no filter); False when
        the chat does not follow the watch list."""

    @abstractmethod
    def filters(self, chat: str) -> dict[str, str]:
        """The chat's filters, by watch list (subscriptions without one are not in it)."""

    @abstractmethod
    def set_muted(self, chat: str, until: datetime | None) -> None: ...

    @abstractmethod
    def set_digest(self, chat: str, mode: DigestMode) -> None: ...

    @abstractmethod
    def sync_channels(self, targets: Sequence[tuple[str, Sequence[str]]], now: datetime) -> None:
        """Make the configured channel targets (chat, watch lists) the only config-made subscriptions."""

    @abstractmethod
    def deactivate_chat(self, chat: str, reason: str) -> int:
        """Stop sending to a chat; its owed deliveries are dropped. Returns how many were."""

    @abstractmethod
    def migrate_chat(self, old: str, new: str) -> None:
        """A group became a supergroup: move subscriptions and owed deliveries to the new chat id."""

    # deliveries
    @abstractmethod
    def fan_out(self, notifier: str, alert: Alert, now: datetime, admits: Callable[[str], bool]) -> int:
        """In one transaction, owe `alert` to every active, unmuted subscriber of its watch list whose filter,
        if it has one, `admits` it (asked once per distinct filter)."""

    @abstractmethod
    def due_deliveries(self, notifier: str, now: datetime, limit: int = 100) -> list[Delivery]:
        """The oldest owed delivery of each chat, when it is due, oldest alert first."""

    @abstractmethod
    def next_due(self, notifier: str) -> datetime | None:
        """When the earliest head-of-queue delivery falls due (None: nothing owed)."""

    @abstractmethod
    def digest_batch(self, notifier: str, chat: str, now: datetime, limit: int = 50) -> list[Delivery]:
        """The due digest deliveries at the head of a chat's queue, in alert order."""

    @abstractmethod
    def mark_sent(self, ids: Sequence[int], now: datetime) -> None: ...

    @abstractmethod
    def retry_delivery(self, delivery_id: int, error: str, due: datetime, *, strike: bool = True) -> None:
        """A failed attempt; `strike=False` when it does not count towards max_attempts (an outage)."""

    @abstractmethod
    def fail_delivery(self, delivery_id: int, error: str, now: datetime) -> None:
        """Give up on one delivery (a dead letter: refused, or out of attempts)."""

    @abstractmethod
    def telegram_dead_letters(self, since: datetime) -> int:
        """Deliveries given up on at or after `since`."""

    @abstractmethod
    def telegram_redeliver(self, since: datetime, now: datetime, notifier: str | None = None) -> int:
        """Make the deliveries given up on at or after `since` owed again, due `now`; how many."""

    @abstractmethod
    def telegram_stats(self, notifier: str) -> TelegramStats: ...


class TelegramStoreMixin(TelegramStore):
    """SQLite implementation of `TelegramStore`; mix into a store that has `self.conn`."""

    conn: sqlite3.Connection
    _tg_ready: bool = False

    def migrate_telegram(self) -> None:
        """Apply the "telegram" schema migrations (call when the store opens; done on first use otherwise)."""
        if not self._tg_ready:
            apply_migrations(self.conn, "telegram", TELEGRAM_MIGRATIONS)
            self._tg_ready = True

    def _db(self) -> sqlite3.Connection:
        self.migrate_telegram()
        return self.conn

    def _q(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return cast(list[tuple[Any, ...]], self._db().execute(sql, params).fetchall())

    # chats and subscriptions

    def register_chat(self, chat: str, kind: str, title: str, now: datetime) -> Chat:
        with immediate(self._db()) as conn:
            conn.execute(
                "INSERT INTO tg_chats (chat, kind, title, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
                " active = 1, inactive_reason = NULL",
                (chat, kind, title, to_text(now)),
            )
        return cast(Chat, self.chat(chat))

    def chat(self, chat: str) -> Chat | None:
        rows = self._q(
            "SELECT chat, kind, title, active, muted_until, digest, origin FROM tg_chats WHERE chat = ?", chat
        )
        if not rows:
            return None
        r = rows[0]
        return Chat(r[0], r[1], r[2], bool(r[3]), from_text(r[4]), r[5], r[6])

    def subscribe(self, chat: str, watchlist: str, now: datetime) -> bool:
        with immediate(self._db()) as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO tg_subscriptions (chat, watchlist, created) VALUES (?, ?, ?)",
                (chat, watchlist, to_text(now)),
            )
        return cur.rowcount > 0

    def unsubscribe(self, chat: str, watchlist: str) -> bool:
        with immediate(self._db()) as conn:
            cur = conn.execute("DELETE FROM tg_subscriptions WHERE chat = ? AND watchlist = ?", (chat, watchlist))
        return cur.rowcount > 0

    def subscriptions(self, chat: str) -> list[str]:
        return [r[0] for r in self._q("SELECT watchlist FROM tg_subscriptions WHERE chat = ? ORDER BY 1", chat)]

    def set_filter(self, chat: str, watchlist: str, query: str | None) -> bool:
        with immediate(self._db()) as conn:
            cur = conn.execute(
                "UPDATE tg_subscriptions SET filter = ? WHERE chat = ? AND watchlist = ?", (query, chat, watchlist)
            )
        return cur.rowcount > 0

    def filters(self, chat: str) -> dict[str, str]:
        rows = self._q(
            "SELECT watchlist, filter FROM tg_subscriptions WHERE chat = ? AND filter IS NOT NULL ORDER BY 1", chat
        )
        return {r[0]: r[1] for r in rows}

    def set_muted(self, chat: str, until: datetime | None) -> None:
        with immediate(self._db()) as conn:
            conn.execute("UPDATE tg_chats SET muted_until = ? WHERE chat = ?", (to_text(until), chat))

    def set_digest(self, chat: str, mode: DigestMode) -> None:
        with immediate(self._db()) as conn:
            conn.execute("UPDATE tg_chats SET digest = ? WHERE chat = ?", (mode, chat))

    def sync_channels(self, targets: Sequence[tuple[str, Sequence[str]]], now: datetime) -> None:
        with immediate(self._db()) as conn:
            conn.execute(
                "DELETE FROM tg_subscriptions WHERE chat IN (SELECT chat FROM tg_chats WHERE origin = 'config')"
            )
            for chat, watchlists in targets:
                conn.execute(
                    "INSERT INTO tg_chats (chat, kind, origin, created) VALUES (?, 'channel', 'config', ?)"
                    " ON CONFLICT (chat) DO UPDATE SET origin = 'config', active = 1, inactive_reason = NULL",
                    (chat, to_text(now)),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO tg_subscriptions (chat, watchlist, created) VALUES (?, ?, ?)",
                    [(chat, w, to_text(now)) for w in watchlists],
                )

    def deactivate_chat(self, chat: str, reason: str) -> int:
        with immediate(self._db()) as conn:
            conn.execute("UPDATE tg_chats SET active = 0, inactive_reason = ? WHERE chat = ?", (reason, chat))
            cur = conn.execute(
                "UPDATE tg_deliveries SET status = 'dropped', last_error = ? WHERE chat = ? AND status = 'owed'",
                (reason, chat),
            )
        return cur.rowcount

    def migrate_chat(self, old: str, new: str) -> None:
        with immediate(self._db()) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO tg_chats (chat, kind, title, muted_until, digest, origin, created)"
                " SELECT ?, 'supergroup', title, muted_until, digest, origin, created FROM tg_chats WHERE chat = ?",
                (new, old),
            )
            conn.execute(
                "INSERT OR IGNORE INTO tg_subscriptions (chat, watchlist, created, filter)"
                " SELECT ?, watchlist, created, filter FROM tg_subscriptions WHERE chat = ?",
                (new, old),
            )
            conn.execute("DELETE FROM tg_subscriptions WHERE chat = ?", (old,))
            conn.execute("UPDATE OR IGNORE tg_deliveries SET chat = ? WHERE chat = ? AND status = 'owed'", (new, old))
            conn.execute(
                "UPDATE tg_chats SET active = 0, inactive_reason = ? WHERE chat = ?", (f"migrated to {new}", old)
            )
            conn.execute(
                "UPDATE tg_deliveries SET status = 'dropped', last_error = ? WHERE chat = ? AND status = 'owed'",
                (f"migrated to {new}", old),
            )

    # deliveries

    def fan_out(self, notifier: str, alert: Alert, now: datetime, admits: Callable[[str], bool]) -> int:
        with immediate(self._db()) as conn:
            filters = conn.execute(
                "SELECT DISTINCT filter FROM tg_subscriptions WHERE watchlist = ? AND filter IS NOT NULL",
                (alert.watchlist,),
            )
            admitted = json.dumps([f for (f,) in filters.fetchall() if admits(f)])
            cur = conn.execute(
                "INSERT OR IGNORE INTO tg_deliveries (notifier, chat, alert_id, digest, due)"
                " SELECT ?, c.chat, ?, c.digest,"
                " CASE c.digest WHEN 'hourly' THEN ? WHEN 'daily' THEN ? ELSE ? END"
                " FROM tg_subscriptions s JOIN tg_chats c ON c.chat = s.chat"
                " WHERE s.watchlist = ? AND c.active = 1 AND (c.muted_until IS NULL OR c.muted_until <= ?)"
                " AND (s.filter IS NULL OR s.filter IN (SELECT value FROM json_each(?)))",
                (
                    notifier,
                    alert.id,
                    to_text(period_end("hourly", now)),
                    to_text(period_end("daily", now)),
                    to_text(now),
                    alert.watchlist,
                    to_text(now),
                    admitted,
                ),
            )
        return cur.rowcount

    def _deliveries(self, where: str, *params: Any) -> list[Delivery]:
        rows = self._q(
            "SELECT d.id, d.chat, d.alert_id, d.digest, d.attempts, COALESCE(c.kind, ''), d.due, d.strikes"
            f" FROM tg_deliveries d LEFT JOIN tg_chats c ON c.chat = d.chat WHERE {where}",
            *params,
        )
        return [Delivery(r[0], r[1], r[2], r[3], r[4], r[5], cast(datetime, from_text(r[6])), r[7]) for r in rows]

    def due_deliveries(self, notifier: str, now: datetime, limit: int = 100) -> list[Delivery]:
        return self._deliveries(
            f"{_HEAD} AND d.due <= ? ORDER BY d.alert_id, d.id LIMIT ?", notifier, to_text(now), limit
        )

    def next_due(self, notifier: str) -> datetime | None:
        return from_text(self._q(f"SELECT MIN(d.due) FROM tg_deliveries d WHERE {_HEAD}", notifier)[0][0])

    def digest_batch(self, notifier: str, chat: str, now: datetime, limit: int = 50) -> list[Delivery]:
        rows = self._deliveries(
            "d.notifier = ? AND d.chat = ? AND d.status = 'owed' ORDER BY d.alert_id LIMIT ?", notifier, chat, limit
        )
        batch: list[Delivery] = []
        for row in rows:
            if row.digest == "off" or row.due > now:
                break
            batch.append(row)
        return batch

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        with immediate(self._db()) as conn:
            conn.executemany(
                "UPDATE tg_deliveries SET status = 'sent', sent_at = ?, last_error = NULL"
                " WHERE id = ? AND status = 'owed'",
                [(to_text(now), i) for i in ids],
            )

    def retry_delivery(self, delivery_id: int, error: str, due: datetime, *, strike: bool = True) -> None:
        with immediate(self._db()) as conn:
            conn.execute(
                "UPDATE tg_deliveries SET attempts = attempts + 1, strikes = strikes + ?, last_error = ?, due = ?"
                " WHERE id = ?",
                (int(strike), error, to_text(due), delivery_id),
            )

    def fail_delivery(self, delivery_id: int, error: str, now: datetime) -> None:
        with immediate(self._db()) as conn:
            conn.execute(
                "UPDATE tg_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?, failed_at = ?"
                " WHERE id = ? AND status = 'owed'",
                (error, to_text(now), delivery_id),
            )

    def telegram_redeliver(self, since: datetime, now: datetime, notifier: str | None = None) -> int:
        with immediate(self._db()) as conn:
            return conn.execute(
                "UPDATE tg_deliveries SET status = 'owed', attempts = 0, strikes = 0, last_error = NULL,"
                " failed_at = NULL, due = ? WHERE status = 'failed' AND failed_at >= ? AND (? IS NULL OR notifier = ?)",
                (to_text(now), to_text(since), notifier, notifier),
            ).rowcount

    def telegram_dead_letters(self, since: datetime) -> int:
        return int(self._q("SELECT COUNT(*) FROM tg_deliveries WHERE status = 'failed' AND failed_at >= ?",
                           to_text(since))[0][0])

    def telegram_stats(self, notifier: str) -> TelegramStats:
        following = "EXISTS (SELECT 1 FROM tg_subscriptions s WHERE s.chat = tg_chats.chat)"
        chats = {
            r[0]: int(r[1])
            for r in self._q(f"SELECT kind, COUNT(*) FROM tg_chats WHERE active = 1 AND {following} GROUP BY 1")
        }
        inactive = int(self._q(f"SELECT COUNT(*) FROM tg_chats WHERE active = 0 AND {following}")[0][0])
        subs = {
            r[0]: int(r[1])
            for r in self._q(
                "SELECT s.watchlist, COUNT(*) FROM tg_subscriptions s JOIN tg_chats c ON c.chat = s.chat"
                " WHERE c.active = 1 GROUP BY 1 ORDER BY 1"
            )
        }
        owed = int(self._q("SELECT COUNT(*) FROM tg_deliveries WHERE notifier = ? AND status = 'owed'", notifier)[0][0])
        return TelegramStats(chats, inactive, subs, owed)
