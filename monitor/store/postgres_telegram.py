"""`PostgresTelegramMixin`: the Telegram subscribers, subscriptions and per-chat deliveries of `TelegramStore` on
PostgreSQL, for `PostgresStore`: the tables of `monitor.store.telegram` (its "telegram" migration component) in
PostgreSQL's types, the same queries. Mixed into a store that gives `_conn`, `transaction`, `_rows` and `_run`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from monitor.records import Alert
from monitor.store.telegram import Chat, Delivery, DigestMode, TelegramStats, TelegramStore, period_end

Connection = psycopg.Connection[TupleRow]
Params = Sequence[object] | dict[str, object]

TELEGRAM_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tg_chats (
        chat text PRIMARY KEY,  -- numeric chat id as text, or '@channelname'
        kind text NOT NULL,  -- private, group, supergroup, channel
        title text NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true,
        inactive_reason text,
        muted_until timestamptz,
        digest text NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'hourly', 'daily')),
        origin text NOT NULL DEFAULT 'user' CHECK (origin IN ('user', 'config')),
        created timestamptz NOT NULL
    );
    CREATE TABLE tg_subscriptions (
        chat text NOT NULL REFERENCES tg_chats (chat),
        watchlist text NOT NULL,
        created timestamptz NOT NULL,
        filter text,  -- the subscription's own query (NULL: every alert of its watch list)
        PRIMARY KEY (chat, watchlist)
    );
    CREATE INDEX tg_subscriptions_watchlist ON tg_subscriptions (watchlist);
    CREATE INDEX tg_subscriptions_filtered ON tg_subscriptions (watchlist, filter) WHERE filter IS NOT NULL;
    -- One row per alert owed to one chat; owed until Telegram accepted it.
    CREATE TABLE tg_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        notifier text NOT NULL,
        chat text NOT NULL,
        alert_id bigint NOT NULL REFERENCES alerts (id),
        digest text NOT NULL DEFAULT 'off',
        status text NOT NULL DEFAULT 'owed' CHECK (status IN ('owed', 'sent', 'failed', 'dropped')),
        due timestamptz NOT NULL,  -- the next attempt
        attempts integer NOT NULL DEFAULT 0,
        strikes integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at timestamptz,
        failed_at timestamptz,
        UNIQUE (notifier, chat, alert_id)
    );
    CREATE INDEX tg_deliveries_queue ON tg_deliveries (notifier, status, chat, alert_id);
    CREATE INDEX tg_deliveries_alert ON tg_deliveries (alert_id);
    CREATE INDEX tg_deliveries_dead_letters ON tg_deliveries (failed_at) WHERE status = 'failed';
    """,
)

# The oldest owed delivery of each chat (a chat's messages go out in alert order).
_HEAD = (
    "d.notifier = %s AND d.status = 'owed' AND d.alert_id = (SELECT MIN(x.alert_id) FROM tg_deliveries x"
    " WHERE x.notifier = d.notifier AND x.chat = d.chat AND x.status = 'owed')"
)
_CHAT_COLUMNS = "chat, kind, title, active, muted_until, digest, origin"


class PostgresTelegramMixin(TelegramStore):
    """`TelegramStore` on PostgreSQL; see the module docstring for what the store must give."""

    @abstractmethod
    def _conn(self) -> AbstractContextManager[Connection]: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Connection]: ...

    @abstractmethod
    def _rows(self, sql: str, params: Params = ()) -> list[TupleRow]: ...

    @abstractmethod
    def _run(self, sql: str, params: Params = ()) -> None: ...

    def _count(self, sql: str, params: Params = ()) -> int:
        """How many rows a statement changed."""
        with self._conn() as conn:
            return conn.execute(sql, params).rowcount

    # chats and subscriptions

    def register_chat(self, chat: str, kind: str, title: str, now: datetime) -> Chat:
        rows = self._rows(
            "INSERT INTO tg_chats (chat, kind, title, created) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (chat) DO UPDATE SET kind = excluded.kind, title = excluded.title, active = true,"
            f" inactive_reason = NULL RETURNING {_CHAT_COLUMNS}",
            (chat, kind, title, now),
        )
        return Chat(*rows[0])

    def chat(self, chat: str) -> Chat | None:
        rows = self._rows(f"SELECT {_CHAT_COLUMNS} FROM tg_chats WHERE chat = %s", (chat,))
        return Chat(*rows[0]) if rows else None

    def subscribe(self, chat: str, watchlist: str, now: datetime) -> bool:
        return self._count(
            "INSERT INTO tg_subscriptions (chat, watchlist, created) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (chat, watchlist, now),
        ) > 0

    def unsubscribe(self, chat: str, watchlist: str) -> bool:
        return self._count("DELETE FROM tg_subscriptions WHERE chat = %s AND watchlist = %s", (chat, watchlist)) > 0

    def subscriptions(self, chat: str) -> list[str]:
        return [r[0] for r in self._rows("SELECT watchlist FROM tg_subscriptions WHERE chat = %s ORDER BY 1", (chat,))]

    def set_filter(self, chat: str, watchlist: str, query: str | None) -> bool:
        return self._count(
            "UPDATE tg_subscriptions SET filter = %s WHERE chat = %s AND watchlist = %s", (query, chat, watchlist)
        ) > 0

    def filters(self, chat: str) -> dict[str, str]:
        rows = self._rows(
            "SELECT watchlist, filter FROM tg_subscriptions WHERE chat = %s AND filter IS NOT NULL ORDER BY 1", (chat,)
        )
        return {r[0]: r[1] for r in rows}

    def set_muted(self, chat: str, until: datetime | None) -> None:
        self._run("UPDATE tg_chats SET muted_until = %s WHERE chat = %s", (until, chat))

    def set_digest(self, chat: str, mode: DigestMode) -> None:
        self._run("UPDATE tg_chats SET digest = %s WHERE chat = %s", (mode, chat))

    def sync_channels(self, targets: Sequence[tuple[str, Sequence[str]]], now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM tg_subscriptions WHERE chat IN (SELECT chat FROM tg_chats WHERE origin = 'config')"
            )
            for chat, watchlists in targets:
                conn.execute(
                    "INSERT INTO tg_chats (chat, kind, origin, created) VALUES (%s, 'channel', 'config', %s)"
                    " ON CONFLICT (chat) DO UPDATE SET origin = 'config', active = true, inactive_reason = NULL",
                    (chat, now),
                )
                conn.execute(
                    "INSERT INTO tg_subscriptions (chat, watchlist, created) SELECT %s, w, %s FROM unnest(%s::text[]) w"
                    " ON CONFLICT DO NOTHING",
                    (chat, now, list(watchlists)),
                )

    def deactivate_chat(self, chat: str, reason: str) -> int:
        with self.transaction() as conn:
            conn.execute("UPDATE tg_chats SET active = false, inactive_reason = %s WHERE chat = %s", (reason, chat))
            return conn.execute(
                "UPDATE tg_deliveries SET status = 'dropped', last_error = %s WHERE chat = %s AND status = 'owed'",
                (reason, chat),
            ).rowcount

    def migrate_chat(self, old: str, new: str) -> None:
        why = f"migrated to {new}"
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO tg_chats (chat, kind, title, muted_until, digest, origin, created)"
                " SELECT %s, 'supergroup', title, muted_until, digest, origin, created FROM tg_chats WHERE chat = %s"
                " ON CONFLICT DO NOTHING",
                (new, old),
            )
            conn.execute(
                "INSERT INTO tg_subscriptions (chat, watchlist, created, filter)"
                " SELECT %s, watchlist, created, filter FROM tg_subscriptions WHERE chat = %s ON CONFLICT DO NOTHING",
                (new, old),
            )
            conn.execute("DELETE FROM tg_subscriptions WHERE chat = %s", (old,))
            conn.execute(  # those the new chat is not owed already; the rest are dropped below
                "UPDATE tg_deliveries d SET chat = %(new)s WHERE d.chat = %(old)s AND d.status = 'owed'"
                " AND NOT EXISTS (SELECT 1 FROM tg_deliveries x"
                " WHERE x.notifier = d.notifier AND x.chat = %(new)s AND x.alert_id = d.alert_id)",
                {"new": new, "old": old},
            )
            conn.execute("UPDATE tg_chats SET active = false, inactive_reason = %s WHERE chat = %s", (why, old))
            conn.execute(
                "UPDATE tg_deliveries SET status = 'dropped', last_error = %s WHERE chat = %s AND status = 'owed'",
                (why, old),
            )

    # deliveries

    def fan_out(self, notifier: str, alert: Alert, now: datetime, admits: Callable[[str], bool]) -> int:
        with self.transaction() as conn:
            filters = conn.execute(
                "SELECT DISTINCT filter FROM tg_subscriptions WHERE watchlist = %s AND filter IS NOT NULL",
                (alert.watchlist,),
            ).fetchall()
            return conn.execute(
                "INSERT INTO tg_deliveries (notifier, chat, alert_id, digest, due)"
                " SELECT %(notifier)s, c.chat, %(alert)s, c.digest,"
                " CASE c.digest WHEN 'hourly' THEN %(hourly)s WHEN 'daily' THEN %(daily)s ELSE %(now)s END"
                " FROM tg_subscriptions s JOIN tg_chats c ON c.chat = s.chat"
                " WHERE s.watchlist = %(watchlist)s AND c.active"
                " AND (c.muted_until IS NULL OR c.muted_until <= %(now)s)"
                " AND (s.filter IS NULL OR s.filter = ANY(%(admitted)s)) ON CONFLICT DO NOTHING",
                {
                    "notifier": notifier, "alert": alert.id, "hourly": period_end("hourly", now),
                    "daily": period_end("daily", now), "now": now, "watchlist": alert.watchlist,
                    "admitted": [f for (f,) in filters if admits(f)],
                },
            ).rowcount

    def _deliveries(self, where: str, params: Params) -> list[Delivery]:
        rows = self._rows(
            "SELECT d.id, d.chat, d.alert_id, d.digest, d.attempts, COALESCE(c.kind, ''), d.due, d.strikes"
            f" FROM tg_deliveries d LEFT JOIN tg_chats c ON c.chat = d.chat WHERE {where}",
            params,
        )
        return [Delivery(*r) for r in rows]

    def due_deliveries(self, notifier: str, now: datetime, limit: int = 100) -> list[Delivery]:
        return self._deliveries(f"{_HEAD} AND d.due <= %s ORDER BY d.alert_id, d.id LIMIT %s", (notifier, now, limit))

    def next_due(self, notifier: str) -> datetime | None:
        due: datetime | None = self._rows(f"SELECT MIN(d.due) FROM tg_deliveries d WHERE {_HEAD}", (notifier,))[0][0]
        return due

    def digest_batch(self, notifier: str, chat: str, now: datetime, limit: int = 50) -> list[Delivery]:
        rows = self._deliveries(
            "d.notifier = %s AND d.chat = %s AND d.status = 'owed' ORDER BY d.alert_id LIMIT %s",
            (notifier, chat, limit),
        )
        return list(_due_digests(rows, now))

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        self._run(
            "UPDATE tg_deliveries SET status = 'sent', sent_at = %s, last_error = NULL"
            " WHERE id = ANY(%s) AND status = 'owed'",
            (now, list(ids)),
        )

    def retry_delivery(self, delivery_id: int, error: str, due: datetime, *, strike: bool = True) -> None:
        self._run(
            "UPDATE tg_deliveries SET attempts = attempts + 1, strikes = strikes + %s, last_error = %s, due = %s"
            " WHERE id = %s",
            (int(strike), error, due, delivery_id),
        )

    def fail_delivery(self, delivery_id: int, error: str, now: datetime) -> None:
        self._run(
            "UPDATE tg_deliveries SET status = 'failed', attempts = attempts + 1, last_error = %s, failed_at = %s"
            " WHERE id = %s AND status = 'owed'",
            (error, now, delivery_id),
        )

    def telegram_redeliver(self, since: datetime, now: datetime, notifier: str | None = None) -> int:
        return len(self._rows(
            "UPDATE tg_deliveries SET status = 'owed', attempts = 0, strikes = 0, last_error = NULL, failed_at = NULL,"
            " due = %(now)s WHERE status = 'failed' AND failed_at >= %(since)s"
            " AND (%(n)s::text IS NULL OR notifier = %(n)s) RETURNING id",
            {"now": now, "since": since, "n": notifier},
        ))

    def telegram_dead_letters(self, since: datetime) -> int:
        return int(self._rows(
            "SELECT COUNT(*) FROM tg_deliveries WHERE status = 'failed' AND failed_at >= %s", (since,)
        )[0][0])

    def telegram_stats(self, notifier: str) -> TelegramStats:
        following = "EXISTS (SELECT 1 FROM tg_subscriptions s WHERE s.chat = tg_chats.chat)"
        chats = {r[0]: int(r[1]) for r in self._rows(
            f"SELECT kind, COUNT(*) FROM tg_chats WHERE active AND {following} GROUP BY 1"
        )}
        inactive = int(self._rows(f"SELECT COUNT(*) FROM tg_chats WHERE NOT active AND {following}")[0][0])
        subscriptions = {r[0]: int(r[1]) for r in self._rows(
            "SELECT s.watchlist, COUNT(*) FROM tg_subscriptions s JOIN tg_chats c ON c.chat = s.chat"
            " WHERE c.active GROUP BY 1 ORDER BY 1"
        )}
        owed = int(self._rows(
            "SELECT COUNT(*) FROM tg_deliveries WHERE notifier = %s AND status = 'owed'", (notifier,)
        )[0][0])
        return TelegramStats(chats, inactive, subscriptions, owed)


def _due_digests(rows: Sequence[Delivery], now: datetime) -> Iterator[Delivery]:
    """The due digest deliveries at the head of a chat's queue (up to the first that is not one, or not due)."""
    for row in rows:
        if row.digest == "off" or row.due > now:
            return
        yield row
