"""`PostgresStore`: the store on a PostgreSQL server that several processes may share (psycopg 3, a connection pool).

The same tables as `SqliteStore` with PostgreSQL's own types (timestamptz, bigint, text[]), its own migrations
("core" and "telegram", in the same `schema_migrations` ledger), and the same algorithm for `record`
(`store.batch.Batch`, over this store's statements). Synchronous like `SqliteStore`: a call takes a pooled
connection, or the connection of the transaction its thread has open, so the event loop and retention's worker
thread each have their own.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from monitor.errors import StorageError
from monitor.fingerprint import bands, from_signed, to_signed
from monitor.logs import MASK, protect
from monitor.records import Alert, AlertKind, Article, Match, SourceState
from monitor.store import OWED, RECENT_ENTRIES, SEEN_RESOLUTION, Candidate, Recorded, Revision, Store, StoredArticle
from monitor.store.batch import NEAR_DUPLICATE_CANDIDATES, Band, Batch, Originals, near_duplicate, newest_per_band
from monitor.store.postgres_telegram import TELEGRAM_MIGRATIONS, Connection, Params, PostgresTelegramMixin
from monitor.store.retention import BATCH, PruneReport, _Reference

CORE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sources (
        name text PRIMARY KEY,
        etag text,
        last_modified text,
        last_fetch timestamptz,
        last_success timestamptz,
        last_status integer,
        last_error text,
        error_count integer NOT NULL DEFAULT 0,
        next_due timestamptz
    );
    CREATE TABLE articles (
        id text PRIMARY KEY,
        url text NOT NULL,
        source text NOT NULL,
        guid text,
        title text NOT NULL,
        text text NOT NULL,
        content_hash text NOT NULL,
        fingerprint bigint NOT NULL,  -- SimHash as signed 64-bit (monitor.fingerprint.to_signed)
        entry_hash text NOT NULL DEFAULT '',
        published timestamptz,
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        duplicate_of text REFERENCES articles (id)  -- a syndicated copy of this article
    );
    CREATE INDEX articles_guid ON articles (guid);
    CREATE INDEX articles_first_seen ON articles (first_seen);
    CREATE INDEX articles_duplicate_of ON articles (duplicate_of);
    CREATE INDEX articles_source ON articles (source, first_seen);
    -- Near-duplicate lookup: the fingerprint bands (monitor.fingerprint.bands) of articles that alerted, one row each.
    CREATE TABLE article_bands (
        band integer NOT NULL,
        value integer NOT NULL,
        first_seen timestamptz NOT NULL,
        article_id text NOT NULL REFERENCES articles (id),
        fingerprint bigint NOT NULL,
        PRIMARY KEY (band, value, first_seen, article_id)
    );
    CREATE INDEX article_bands_article ON article_bands (article_id);
    CREATE TABLE article_versions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        article_id text NOT NULL REFERENCES articles (id),
        content_hash text NOT NULL,
        title text NOT NULL,
        text text NOT NULL,
        seen_at timestamptz NOT NULL
    );
    CREATE INDEX article_versions_article ON article_versions (article_id);
    -- Other ways to reach a stored article: another canonical URL's id, or another feed GUID.
    CREATE TABLE article_aliases (
        kind text NOT NULL CHECK (kind IN ('id', 'guid')),
        value text NOT NULL,
        article_id text NOT NULL REFERENCES articles (id),
        PRIMARY KEY (kind, value)
    );
    CREATE INDEX article_aliases_article ON article_aliases (article_id);
    CREATE TABLE matches (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        article_id text NOT NULL REFERENCES articles (id),
        content_hash text NOT NULL,
        watchlist text NOT NULL,
        query text NOT NULL,
        terms text[] NOT NULL,
        snippet text NOT NULL,
        score double precision NOT NULL,
        created timestamptz NOT NULL,
        UNIQUE (article_id, content_hash, watchlist, query)
    );
    -- At most one alert per article and watch list, ever: an edit alerts only where nothing did.
    CREATE TABLE alerts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        article_id text NOT NULL REFERENCES articles (id),
        watchlist text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('new', 'updated')),
        title text NOT NULL,
        url text NOT NULL,
        source text NOT NULL,
        published timestamptz,
        terms text[] NOT NULL,
        snippet text NOT NULL,
        added text[] NOT NULL DEFAULT '{}',
        also_in text[] NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL,
        UNIQUE (article_id, watchlist)
    );
    CREATE INDEX alerts_created ON alerts (created);
    CREATE TABLE outbox (
        alert_id bigint NOT NULL REFERENCES alerts (id),
        notifier text NOT NULL,
        status text NOT NULL CHECK (status IN ('owed', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        strikes integer NOT NULL DEFAULT 0,
        next_attempt timestamptz NOT NULL,
        last_error text,
        delivered_at timestamptz,
        failed_at timestamptz,
        PRIMARY KEY (alert_id, notifier)
    );
    CREATE INDEX outbox_owed ON outbox (notifier, status, alert_id);
    CREATE INDEX outbox_dead_letters ON outbox (failed_at) WHERE status = 'failed';
    """,
    # Adaptive polling: the interval chosen after a source's last poll, and why.
    """
    ALTER TABLE sources ADD COLUMN poll_interval double precision, ADD COLUMN poll_reason text;
    """,
    # Source health (monitor.sourcehealth) and page re-checks, as SQLite's core v6.
    """
    CREATE TABLE source_health (key text PRIMARY KEY, state jsonb NOT NULL);
    ALTER TABLE articles ADD COLUMN page_checked timestamptz, ADD COLUMN page_url text;
    """,
)

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""
COMPONENTS = {"core": CORE_MIGRATIONS, "telegram": TELEGRAM_MIGRATIONS}  # migrated in this order when a store opens
_MIGRATION_LOCK = 0x6D6F6E69746F72  # an advisory lock key ("monitor") held while one process migrates
_SOURCE_COLUMNS = (
    "name, etag, last_modified, last_fetch, last_success, last_status, last_error, error_count, next_due,"
    " poll_interval, poll_reason"
)
_ALERT_COLUMNS = (
    "a.id, a.article_id, a.watchlist, a.kind, a.title, a.url, a.source, a.published, a.terms, a.snippet,"
    " a.created, a.added, a.also_in"
)

# Each key (id, GUID, stored id) with the stored article it leads to (the id, an id alias, the GUID, a GUID alias,
# the stored id, in that order) and the watch lists that alerted on it or on its original: one statement.
_FIND_ARTICLES = """
SELECT k.n - 1, a.id, a.url, a.source, a.guid, a.title, a.text, a.content_hash, a.fingerprint, a.entry_hash,
    a.first_seen, a.duplicate_of, ARRAY(SELECT watchlist FROM alerts WHERE article_id IN (a.id, a.duplicate_of))
FROM unnest(%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS k (id, guid, known, n)
CROSS JOIN LATERAL (
    SELECT target FROM (
        SELECT id, 1 FROM articles WHERE id = k.id
        UNION ALL SELECT article_id, 2 FROM article_aliases WHERE kind = 'id' AND value = k.id
        UNION ALL SELECT id, 3 FROM articles WHERE guid = k.guid
        UNION ALL SELECT article_id, 4 FROM article_aliases WHERE kind = 'guid' AND value = k.guid
        UNION ALL SELECT id, 5 FROM articles WHERE id = k.known
    ) AS found (target, rank) ORDER BY rank LIMIT 1
) AS r
JOIN articles a ON a.id = r.target
"""

# Band, value, fingerprint, first seen and id of the newest NEAR_DUPLICATE_CANDIDATES + 1 index rows of each band
# first seen at or after a time.
_NEAR_DUPLICATES = f"""
SELECT q.band, q.value, c.fingerprint, c.first_seen, c.article_id
FROM unnest(%(bands)s::integer[], %(values)s::integer[]) AS q (band, value)
CROSS JOIN LATERAL (
    SELECT fingerprint, first_seen, article_id FROM article_bands b
    WHERE b.band = q.band AND b.value = q.value AND b.first_seen >= %(since)s
    ORDER BY b.first_seen DESC, b.article_id DESC LIMIT {NEAR_DUPLICATE_CANDIDATES + 1}
) AS c
"""

# The original an article is a copy of, following copies of copies (none: the article is its own).
_ROOT = """
WITH RECURSIVE chain (id, next) AS (
    SELECT id, duplicate_of FROM articles WHERE id = %s
    UNION SELECT a.id, a.duplicate_of FROM chain JOIN articles a ON a.id = chain.next
)
SELECT id FROM chain WHERE next IS NULL
"""


# Told, inside the transaction that made alerts and just before it commits, its connection and the notifiers owed
# them: what it writes on that connection commits with the alerts or not at all (the engine defers their delivery).
AlertsHook = Callable[[Connection, Sequence[str]], None]


def describe(url: str) -> str:
    """The database a URL names, without its password: for messages and logs."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(a URL that does not parse)"
    user = f"{quote(str(params['user']))}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"


def _hide(text: str, url: str) -> str:
    """`text` with the URL and its password masked (libpq may quote the connection string back in an error)."""
    text = text.replace(url, describe(url))
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        return text
    return text.replace(str(password), MASK) if password else text


def _configure(conn: Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")  # naive datetimes are UTC, as in SqliteStore


def server_spoke(conn: psycopg.BaseConnection[Any]) -> bool:
    """Whether the server closed or wrote to an idle connection (a restart or a terminated backend: its socket is
    readable): a pool's check makes its empty query then only. An empty query on every checkout was a third of a
    poll's round trips."""
    return conn.closed or bool(select.select([conn.fileno()], [], [], 0)[0])


def _check(conn: Connection) -> None:
    """A pooled connection as it is handed out: replaced when the server spoke and an empty query fails."""
    if server_spoke(conn):
        ConnectionPool.check_connection(conn)


def connect(url: str, *, timeout: float = 10.0, autocommit: bool = True) -> Connection:
    """A connection set up as the store uses it; StorageError, with the password masked, if there is none."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, round(timeout)))
        _configure(conn)
    except psycopg.Error as exc:
        raise StorageError(f"cannot reach the database {describe(url)}: {_hide(str(exc).strip(), url)}") from exc
    return conn


def schema_version(conn: Connection, component: str) -> int:
    """The last migration applied for `component` (0 for none, or no ledger yet)."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,):
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_migrations WHERE component = %s", (component,)).fetchone()
    return int(row[0] or 0) if row else 0


def apply_migrations(conn: Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply the migrations of `component` not applied yet (`migrations[i]` is version i + 1); return its version.

    Each migration and its ledger row commit together, under an advisory lock: processes that open the store at
    once apply each version once. Never edit a released migration; append a new one.
    """
    for version, sql in enumerate(migrations, start=1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(_LEDGER)
            if schema_version(conn, component) < version:
                conn.execute(sql)  # several statements: no parameters
                conn.execute("INSERT INTO schema_migrations (component, version) VALUES (%s, %s)", (component, version))
    return schema_version(conn, component)


def migration_state(url: str) -> str:
    """Whether the database is reachable and migrated, in words (StorageError when it cannot be reached)."""
    with connect(url, timeout=5) as conn:
        versions = {component: schema_version(conn, component) for component in COMPONENTS}
    latest = {component: len(migrations) for component, migrations in COMPONENTS.items()}
    now = ", ".join(f"{component} v{version}" for component, version in versions.items())
    known = ", ".join(f"{component} v{version}" for component, version in latest.items())
    if versions == latest:
        return f"reachable, migrated ({now})"
    if all(versions[c] <= latest[c] for c in COMPONENTS):
        return f"reachable, not migrated ({now} of {known}: the monitor migrates it when it opens it)"
    return f"reachable, migrated by a newer monitor ({now}; this one knows {known})"


def _lock_articles(conn: Connection, keys: Sequence[str | None]) -> None:
    """Serialise transactions that write the same articles (by id, GUID or stored id), in one order: the
    look-ups of `record` and `save_article` then see what another process's transaction wrote."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h"
        " FROM unnest(%s::text[]) AS k WHERE k IS NOT NULL ORDER BY h) AS keys",
        (list(keys),),
    )


class PostgresStore(PostgresTelegramMixin, Store):
    """Source state, articles, matches, the alert outbox and Telegram's subscribers in a PostgreSQL database.

    `url` is a libpq connection URL (postgresql://user:password@host:port/dbname); it is never printed with its
    password. `pool_size` bounds the connections this process holds. `clock` gives "now"; tests may fix it.
    """

    faults = (psycopg.Error,)
    # An async pool (the engine's), on which the calls a poll makes outside a transaction do not block the loop.
    async_pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None, pool_size: int = 4) -> None:
        self.url = url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._local = threading.local()  # .conn: the connection of the transaction this thread has open
        self._dry: Connection | None = None
        self.on_alerts: AlertsHook | None = None
        try:
            password = conninfo_to_dict(url).get("password")
        except psycopg.Error as exc:
            raise StorageError(f"the database URL does not parse: {describe(url)}") from exc
        if password:
            protect(str(password))  # masked in every log line from now on
        with connect(url) as conn:
            try:
                for component, migrations in COMPONENTS.items():
                    apply_migrations(conn, component, migrations)
            except psycopg.Error as exc:
                raise StorageError(f"cannot migrate the database {describe(url)}: {_hide(str(exc), url)}") from exc
        # Each connection is checked as it is handed out (`_check`), so a restarted server fails no call.
        self._pool: ConnectionPool[Connection] | None = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, configure=_configure, kwargs={"autocommit": True},
            check=_check, name="monitor-store",
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._dry is not None:
            self._dry.close()  # never committed: a snapshot's writes are rolled back

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection of this store's own: pooled, or a snapshot's single one."""
        if self._dry is not None:
            yield self._dry
            return
        assert self._pool is not None
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        """The connection of the transaction open in this thread, or one of the store's own."""
        held: Connection | None = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        with self._connection() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on one connection for this thread, rolled back on any error; joins one already open."""
        held: Connection | None = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        with self._connection() as conn, conn.transaction():
            self._local.conn, self._local.owed = conn, set()
            try:
                yield conn
                if self._local.owed and self.on_alerts is not None:
                    self.on_alerts(conn, sorted(self._local.owed))
            finally:
                self._local.conn = None

    def _rows(self, sql: str, params: Params = ()) -> list[TupleRow]:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchall()

    def _run(self, sql: str, params: Params = ()) -> None:
        with self._conn() as conn:
            conn.execute(sql, params)

    def snapshot(self) -> PostgresStore:
        """A store on one connection whose transaction is never committed: it sees the database and records
        nothing (its writes are rolled back when it closes; rows it writes stay locked until then)."""
        dry = PostgresStore.__new__(PostgresStore)
        dry.url, dry._clock, dry._local, dry._pool, dry.on_alerts = self.url, self._clock, threading.local(), None, None
        dry._dry = connect(self.url, autocommit=False)
        dry._dry.execute("SELECT 1")  # opens the transaction that is never committed: transaction() nests in it
        return dry

    def prune(self, older_than: datetime) -> PruneReport:
        with self._connection() as conn:
            return _prune(conn, older_than)

    # sources

    def source_state(self, name: str) -> SourceState:
        rows = self._rows(f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE name = %s", (name,))
        return _source_state(rows[0]) if rows else SourceState(name)

    def save_source_state(self, state: SourceState) -> None:
        self._run(_SAVE_SOURCE, _source_params(state))

    async def save_source_state_async(self, state: SourceState) -> None:
        await self._rows_async(_SAVE_SOURCE, _source_params(state), fetch=False)

    async def _rows_async(self, sql: str, params: Params, *, fetch: bool = True) -> list[TupleRow]:
        """`_rows` on the async pool, when there is one and this thread has no transaction open."""
        if self.async_pool is None or getattr(self._local, "conn", None) is not None:
            with self._conn() as conn:
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if fetch else []
        async with self.async_pool.connection() as aconn:
            done = await aconn.execute(sql, params)
            return await done.fetchall() if fetch else []

    def new_items(self, source: str, since: Sequence[datetime]) -> list[int]:
        return [int(n) for n in self._rows(_new_items(since), (*since, source, min(since)))[0]]

    def poll_state(self, name: str, since: Sequence[datetime]) -> tuple[SourceState, list[int]]:
        """The source's state and its `new_items`, in one statement."""
        return _polled(name, self._rows(_poll_state(since), (*since, name, min(since), name))[0])

    async def poll_state_async(self, name: str, since: Sequence[datetime]) -> tuple[SourceState, list[int]]:
        return _polled(name, (await self._rows_async(_poll_state(since), (*since, name, min(since), name)))[0])

    def source_states(self) -> list[SourceState]:
        return [_source_state(r) for r in self._rows(f"SELECT {_SOURCE_COLUMNS} FROM sources ORDER BY name")]

    # source health

    def health_states(self) -> dict[str, dict[str, Any]]:
        return {row[0]: row[1] for row in self._rows("SELECT key, state FROM source_health")}

    def save_health_state(self, key: str, state: dict[str, Any] | None) -> None:
        if state is None:
            self._run("DELETE FROM source_health WHERE key = %s", (key,))
        else:
            self._run("INSERT INTO source_health (key, state) VALUES (%s, %s)"
                      " ON CONFLICT (key) DO UPDATE SET state = excluded.state", (key, Jsonb(state)))

    # articles

    def find_articles(self, keys: Sequence[tuple[str, str | None]]) -> list[StoredArticle | None]:
        return self._find([(article_id, guid, None) for article_id, guid in keys])

    def pages_to_recheck(
        self, sources: Sequence[str], alerted_since: datetime, checked_before: datetime, limit: int
    ) -> list[tuple[StoredArticle, str]]:
        rows = self._rows(
            "SELECT a.id, COALESCE(a.page_url, a.url)"
            " FROM (SELECT article_id, MIN(created) AS first FROM alerts GROUP BY article_id"
            " HAVING MIN(created) >= %s) f JOIN articles a ON a.id = f.article_id"
            " WHERE a.duplicate_of IS NULL AND a.source = ANY(%s)"
            " AND COALESCE(a.page_checked, f.first) < %s ORDER BY COALESCE(a.page_checked, f.first), a.id LIMIT %s",
            (alerted_since, list(sources), checked_before, limit),
        )
        found = self.find_articles([(r[0], None) for r in rows])
        return [(a, r[1]) for a, r in zip(found, rows, strict=True) if a is not None]

    def save_page_urls(self, urls: Mapping[str, str]) -> None:
        if urls:
            ids, pages = list(urls), list(urls.values())
            self._run("UPDATE articles SET page_url = u.page FROM unnest(%s::text[], %s::text[]) AS u (id, page)"
                      " WHERE articles.id = u.id", (ids, pages))

    def mark_pages_checked(self, ids: Sequence[str], at: datetime) -> None:
        self._run("UPDATE articles SET page_checked = %s WHERE id = ANY(%s)", (at, list(ids)))

    def _find(self, keys: Sequence[tuple[str, str | None, str | None]]) -> list[StoredArticle | None]:
        """`find_articles` with a stored id to fall back on for each key."""
        found: list[StoredArticle | None] = [None] * len(keys)
        if not keys:
            return found
        ids, guids, known = (list(column) for column in zip(*keys, strict=True))
        for row in self._rows(_FIND_ARTICLES, (ids, guids, known)):
            found[row[0]] = StoredArticle(
                id=row[1], url=row[2], source=row[3], guid=row[4], title=row[5], text=row[6], content_hash=row[7],
                fingerprint=from_signed(row[8]), entry_hash=row[9], first_seen=row[10], duplicate_of=row[11],
                alerted=frozenset(row[12]),
            )
        return found

    def recent_entry_hashes(self, source: str, limit: int = RECENT_ENTRIES) -> frozenset[str]:
        rows = self._rows(
            "SELECT entry_hash FROM articles WHERE source = %s ORDER BY first_seen DESC LIMIT %s", (source, limit)
        )
        return frozenset(r[0] for r in rows)

    def find_near_duplicate(self, fingerprint: int, since: datetime, exclude_id: str) -> StoredArticle | None:
        return near_duplicate(self, fingerprint, since, exclude_id)

    def _near_duplicates(self, keys: Collection[Band], since: datetime) -> Originals:
        numbers, values = [b for b, _ in keys], [v for _, v in keys]
        rows = self._rows(_NEAR_DUPLICATES, {"bands": numbers, "values": values, "since": since})
        return newest_per_band(keys, ((band, value, from_signed(other), seen, article_id)
                                      for band, value, other, seen, article_id in rows))

    def record(
        self,
        candidates: Sequence[Candidate],
        *,
        revise: Callable[[Candidate, StoredArticle], Revision],
        notifiers: Sequence[str],
        listed: Sequence[str],
        state: SourceState,
        seen_at: datetime,
    ) -> list[Recorded]:
        """See `Store.record`: `SqliteStore`'s batch over this store's statements, the candidates' articles locked
        against other processes' writes first."""
        with self.transaction() as conn:
            _lock_articles(conn, [k for c in candidates for k in (c.article.id, c.article.guid, c.stored_id)])
            batch = Batch(self, candidates, seen_at)
            done = [batch.record(n, revise, notifiers) for n in range(len(candidates))]
            batch.flush()
            if listed:
                conn.execute(
                    "UPDATE articles SET last_seen = %s WHERE id = ANY(%s) AND last_seen < %s",
                    (seen_at, list(listed), seen_at - SEEN_RESOLUTION),
                )
            self.save_source_state(state)
        return done

    def save_article(
        self,
        article: Article,
        *,
        fingerprint: int,
        kind: AlertKind,
        matches: Sequence[Match],
        notifiers: Sequence[str],
        added: Sequence[str] = (),
        duplicate_of: str | None = None,
        stored_id: str | None = None,
        entry_hash: str = "",
    ) -> list[Alert]:
        now = self._clock()
        target = stored_id or article.id
        with self.transaction() as conn:
            _lock_articles(conn, (article.id, article.guid, stored_id))
            edited = self._upsert_article(conn, target, article, fingerprint, entry_hash, now)
            self._add_aliases(conn, target, article)
            if duplicate_of is not None:
                self._record_copy(conn, target, article.source, duplicate_of)
                return []
            conn.cursor().executemany(
                "INSERT INTO matches (article_id, content_hash, watchlist, query, terms, snippet, score, created)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(target, article.content_hash, m.watchlist, m.query, list(m.terms), m.snippet, m.score, now)
                 for m in matches],
            )
            alerts = self._create_alerts(conn, target, article, kind, matches, notifiers, added, now)
            if alerts or (edited and conn.execute("SELECT 1 FROM alerts WHERE article_id = %s LIMIT 1",
                                                  (target,)).fetchone()):  # an edit dropped an original's old bands
                conn.execute(
                    "INSERT INTO article_bands (band, value, first_seen, article_id, fingerprint)"
                    " SELECT q.band, q.value, a.first_seen, a.id, a.fingerprint"
                    " FROM articles a, unnest(%s::integer[], %s::integer[]) AS q (band, value) WHERE a.id = %s"
                    " ON CONFLICT DO NOTHING",
                    (list(range(len(bands(fingerprint)))), list(bands(fingerprint)), target),
                )
            return alerts

    def _upsert_article(
        self, conn: Connection, target: str, article: Article, fingerprint: int, entry_hash: str, now: datetime
    ) -> bool:
        """Insert or update the article row, with a version row when the content is new or changed; whether a
        stored article's content changed (its near-duplicate bands are dropped then)."""
        row = conn.execute("SELECT content_hash FROM articles WHERE id = %s", (target,)).fetchone()
        if row is None:
            self._insert_articles([(target, article, fingerprint, entry_hash, now)])
            return False
        conn.execute(
            "UPDATE articles SET title = %s, text = %s, content_hash = %s, fingerprint = %s, entry_hash = %s,"
            " published = COALESCE(%s, published), guid = COALESCE(guid, %s), last_seen = %s WHERE id = %s",
            (article.title, article.text, article.content_hash, to_signed(fingerprint), entry_hash, article.published,
             article.guid, now, target),
        )
        if row[0] == article.content_hash:
            return False
        conn.execute("DELETE FROM article_bands WHERE article_id = %s", (target,))
        self._insert_versions(conn, [(target, article, now)])
        return True

    def _insert_articles(self, rows: Sequence[tuple[str, Article, int, str, datetime]]) -> None:
        """New articles (id, article, fingerprint, entry hash, first seen) and their first versions."""
        with self._conn() as conn:
            conn.cursor().executemany(
                "INSERT INTO articles (id, url, source, guid, title, text, content_hash, fingerprint, entry_hash,"
                " published, first_seen, last_seen) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(target, a.url, a.source, a.guid, a.title, a.text, a.content_hash, to_signed(fingerprint), entry,
                  a.published, now, now) for target, a, fingerprint, entry, now in rows],
            )
            self._insert_versions(conn, [(target, a, now) for target, a, _, _, now in rows])

    def _insert_versions(self, conn: Connection, rows: Sequence[tuple[str, Article, datetime]]) -> None:
        conn.cursor().executemany(
            "INSERT INTO article_versions (article_id, content_hash, title, text, seen_at) VALUES (%s, %s, %s, %s, %s)",
            [(target, a.content_hash, a.title, a.text, now) for target, a, now in rows],
        )

    def _add_aliases(self, conn: Connection, target: str, article: Article) -> None:
        """Let the article's own id and GUID lead to `target` when they are not its row's."""
        conn.execute(
            "INSERT INTO article_aliases (kind, value, article_id)"
            " SELECT 'id', %(id)s::text, id FROM articles WHERE id = %(target)s::text AND %(id)s::text <> id"
            " UNION ALL SELECT 'guid', %(guid)s::text, id FROM articles WHERE id = %(target)s::text"
            " AND %(guid)s::text <> '' AND guid IS DISTINCT FROM %(guid)s::text"
            " ON CONFLICT DO NOTHING",
            {"id": article.id, "guid": article.guid, "target": target},
        )

    def _record_copy(self, conn: Connection, target: str, outlet: str, duplicate_of: str) -> None:
        """Remember that `target` is a copy; list its outlet in the original's alerts (atomically: another process
        may list another copy's outlet at the same time)."""
        found = conn.execute(_ROOT, (duplicate_of,)).fetchone()
        root = found[0] if found else duplicate_of
        if root == target:
            return
        conn.execute("UPDATE articles SET duplicate_of = %s WHERE id = %s", (root, target))
        conn.execute(
            "UPDATE alerts al SET also_in = array_append(al.also_in, %(outlet)s) FROM articles ar"
            " WHERE al.article_id = %(root)s AND ar.id = al.article_id AND ar.source <> %(outlet)s"
            " AND NOT %(outlet)s = ANY(al.also_in)",
            {"outlet": outlet, "root": root},
        )

    def _create_alerts(
        self,
        conn: Connection,
        target: str,
        article: Article,
        kind: AlertKind,
        matches: Sequence[Match],
        notifiers: Sequence[str],
        added: Sequence[str],
        now: datetime,
    ) -> list[Alert]:
        """One alert per watch list that has none on this article (or its original), owed to every notifier."""
        if not matches:
            return []
        already = {r[0] for r in conn.execute(
            "SELECT al.watchlist FROM articles ar JOIN alerts al ON al.article_id IN (ar.id, ar.duplicate_of)"
            " WHERE ar.id = %s", (target,))}
        best: dict[str, Match] = {}
        for match in matches:
            current = best.get(match.watchlist)
            if match.watchlist not in already and (current is None or match.score > current.score):
                best[match.watchlist] = match
        if not best:
            return []
        also_in = [r[0] for r in conn.execute(
            "SELECT source FROM articles WHERE duplicate_of = %s AND source <> %s GROUP BY source"
            " ORDER BY MIN(first_seen)", (target, article.source))]
        created: list[Alert] = []
        for match in best.values():
            row = conn.execute(
                "INSERT INTO alerts (article_id, watchlist, kind, title, url, source, published, terms, snippet,"
                " added, also_in, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                f" ON CONFLICT (article_id, watchlist) DO NOTHING RETURNING {_ALERT_COLUMNS.replace('a.', '')}",
                (target, match.watchlist, kind, article.title, article.url, article.source, article.published,
                 list(match.terms), match.snippet, list(added), also_in, now),
            ).fetchone()
            if row is None:
                continue
            conn.cursor().executemany(
                "INSERT INTO outbox (alert_id, notifier, status, next_attempt) VALUES (%s, %s, 'owed', %s)",
                [(row[0], notifier, now) for notifier in dict.fromkeys(notifiers)],
            )
            self._local.owed.update(notifiers)
            created.append(_alert(row))
        return created

    def _mark_seen(self, sightings: Sequence[tuple[str, str]], seen_at: datetime) -> None:
        """Stored articles (id, feed entry) seen again unchanged: remember the entry and when, in one statement."""
        ids, entries = (list(column) for column in zip(*sightings, strict=True))
        self._run(
            "UPDATE articles SET entry_hash = s.entry, last_seen = %s"
            " FROM unnest(%s::text[], %s::text[]) AS s (id, entry) WHERE articles.id = s.id",
            (seen_at, ids, entries),
        )

    # outbox

    def alert(self, alert_id: int) -> Alert:
        rows = self._rows(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.id = %s", (alert_id,))
        if not rows:
            raise KeyError(alert_id)
        return _alert(rows[0])

    def owed(self, notifier: str, now: datetime, limit: int = 100) -> list[Alert]:
        rows = self._rows(
            f"SELECT {_ALERT_COLUMNS} FROM outbox o JOIN alerts a ON a.id = o.alert_id"
            " WHERE o.notifier = %s AND o.status = 'owed' AND o.next_attempt <= %s ORDER BY a.id LIMIT %s",
            (notifier, now, limit),
        )
        return [_alert(row) for row in rows]

    def _outbox_count(self, column: str, alert_id: int, notifier: str) -> int:
        rows = self._rows(f"SELECT {column} FROM outbox WHERE alert_id = %s AND notifier = %s", (alert_id, notifier))
        return int(rows[0][0]) if rows else 0

    def attempts(self, alert_id: int, notifier: str) -> int:
        return self._outbox_count("attempts", alert_id, notifier)

    def strikes(self, alert_id: int, notifier: str) -> int:
        return self._outbox_count("strikes", alert_id, notifier)

    def mark_delivered(self, alert_id: int, notifier: str) -> None:
        self._update_outbox(alert_id, notifier, "status = 'delivered', delivered_at = %s, last_error = NULL",
                            self._clock())

    def mark_retry(
        self, alert_id: int, notifier: str, error: str, next_attempt: datetime, *, strike: bool = True
    ) -> None:
        self._update_outbox(
            alert_id, notifier, "attempts = attempts + 1, strikes = strikes + %s, last_error = %s, next_attempt = %s",
            int(strike), error, next_attempt,
        )

    def mark_failed(self, alert_id: int, notifier: str, error: str) -> None:
        self._update_outbox(
            alert_id, notifier, "status = 'failed', attempts = attempts + 1, last_error = %s, failed_at = %s",
            error, self._clock(),
        )

    def _update_outbox(self, alert_id: int, notifier: str, assignments: str, *values: object) -> None:
        self._run(f"UPDATE outbox SET {assignments} WHERE alert_id = %s AND notifier = %s AND status = 'owed'",
                  (*values, alert_id, notifier))

    def dead_letters(self, since: datetime) -> int:
        failed = self._rows("SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND failed_at >= %s", (since,))
        return int(failed[0][0]) + self.telegram_dead_letters(since)

    def outbox_depth(self, notifier: str | None = None) -> int:
        return sum(self._owed(notifier).values())

    def redeliver(self, since: datetime, notifier: str | None = None) -> tuple[int, int]:
        now = self._clock()
        outbox = self._rows(
            "UPDATE outbox SET status = 'owed', attempts = 0, strikes = 0, last_error = NULL, failed_at = NULL,"
            " next_attempt = %(now)s WHERE status = 'failed' AND failed_at >= %(since)s"
            " AND (%(n)s::text IS NULL OR notifier = %(n)s) RETURNING alert_id",
            {"now": now, "since": since, "n": notifier},
        )
        return len(outbox), self.telegram_redeliver(since, now, notifier)

    def owed_by_notifier(self) -> dict[str, int]:
        return self._owed(None)

    def _owed(self, notifier: str | None) -> dict[str, int]:
        rows = self._rows(f"SELECT notifier, COUNT(*) FROM ({OWED}) o WHERE %(n)s::text IS NULL OR notifier = %(n)s"
                          " GROUP BY 1", {"n": notifier})
        return {str(name): int(count) for name, count in rows}

    def oldest_owed(self) -> datetime | None:
        rows = self._rows(
            "SELECT MIN(a.created) FROM outbox o JOIN alerts a ON a.id = o.alert_id WHERE o.status = 'owed'"
        )
        return cast(datetime | None, rows[0][0])

    def recent_alerts(
        self, limit: int = 5, watchlists: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[Alert]:
        rows = self._rows(
            f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE (%(since)s::timestamptz IS NULL OR a.created >= %(since)s)"
            " AND (%(lists)s::text[] IS NULL OR a.watchlist = ANY(%(lists)s)) ORDER BY a.id DESC LIMIT %(limit)s",
            {"since": since, "lists": None if watchlists is None else list(watchlists), "limit": limit},
        )
        return [_alert(row) for row in rows]

    def stats_since(self, since: datetime) -> dict[str, int]:
        rows = self._rows(
            "SELECT watchlist, COUNT(*) FROM alerts WHERE created >= %s GROUP BY watchlist ORDER BY watchlist", (since,)
        )
        return {r[0]: int(r[1]) for r in rows}

    def alerts_per_day(self, since: datetime) -> dict[tuple[str, date], int]:
        rows = self._rows(
            "SELECT watchlist, (created AT TIME ZONE 'UTC')::date AS day, COUNT(*) FROM alerts WHERE created >= %s"
            " GROUP BY watchlist, day",
            (since,),
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}


def _references(conn: Connection) -> list[_Reference]:
    """Every foreign key that points at `articles` or `alerts`, from any component's tables (as retention's)."""
    rows = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text,"
        " EXISTS (SELECT 1 FROM pg_attribute s WHERE s.attrelid = c.conrelid AND s.attname = 'status'"
        " AND NOT s.attisdropped)"
        " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid IN ('articles'::regclass, 'alerts'::regclass)"
    ).fetchall()
    return [_Reference(table, column, parent, has_status) for table, column, parent, has_status in rows]


def _prune(conn: Connection, older_than: datetime) -> PruneReport:
    """Retention as `monitor.store.retention.prune` (the same rules, in batches of BATCH, each its own transaction)
    on an autocommit connection; PostgreSQL's autovacuum reclaims the space."""
    report = PruneReport()
    refs = _references(conn)
    owed = " OR ".join(
        f"EXISTS (SELECT 1 FROM {r.table} d WHERE d.{r.column} = al.id AND d.status = 'owed')"
        for r in refs if r.parent == "alerts" and r.has_status
    ) or "false"
    latest = conn.execute("SELECT source, MAX(last_seen) FROM articles GROUP BY source").fetchall()
    listing = ([s for s, _ in latest], [seen - SEEN_RESOLUTION for _, seen in latest])  # the latest listings' start
    while True:
        with conn.transaction():
            doomed = [r[0] for r in conn.execute(
                ("SELECT a.id FROM articles a JOIN unnest(%s::text[], %s::timestamptz[]) AS l (source, since)"
                " ON l.source = a.source WHERE a.last_seen < %s AND a.first_seen < %s AND a.last_seen < l.since"
                f" AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.article_id = a.id AND ({owed}))"
                " LIMIT %s FOR UPDATE OF a SKIP LOCKED"),
                (*listing, older_than, older_than, BATCH),
            )]
            doomed_alerts = "SELECT id FROM alerts WHERE article_id = ANY(%s)"
            for ref in refs:
                if ref.table == "articles":  # copies of a pruned original stand alone from now on
                    conn.execute(f"UPDATE articles SET {ref.column} = NULL WHERE {ref.column} = ANY(%s)", (doomed,))
                elif ref.parent == "alerts":
                    report.removed[ref.table] += conn.execute(
                        f"DELETE FROM {ref.table} WHERE {ref.column} IN ({doomed_alerts})", (doomed,)
                    ).rowcount
            for ref in refs:
                if ref.parent == "articles" and ref.table != "articles":
                    report.removed[ref.table] += conn.execute(
                        f"DELETE FROM {ref.table} WHERE {ref.column} = ANY(%s)", (doomed,)
                    ).rowcount
            report.removed["articles"] += conn.execute("DELETE FROM articles WHERE id = ANY(%s)", (doomed,)).rowcount
        if len(doomed) < BATCH:
            break
    while True:  # old versions of articles that stay; the latest version of each article is always kept
        count = conn.execute(
            "DELETE FROM article_versions WHERE id IN (SELECT v.id FROM article_versions v WHERE v.seen_at < %s"
            " AND v.id < (SELECT MAX(w.id) FROM article_versions w WHERE w.article_id = v.article_id) LIMIT %s)",
            (older_than, BATCH),
        ).rowcount
        report.removed["article_versions"] += count
        if count < BATCH:
            return report


def _new_items(since: Sequence[datetime]) -> str:
    """`new_items` as one row of counts; parameters: each of `since`, the source, the earliest of `since`."""
    counts = ", ".join("COUNT(*) FILTER (WHERE arrived >= %s)" for _ in since)
    return (f"SELECT {counts} FROM (SELECT LEAST(COALESCE(published, first_seen), first_seen) AS arrived"
            " FROM articles WHERE source = %s AND first_seen >= %s) AS recent")


_SAVE_SOURCE = (
    f"INSERT INTO sources ({_SOURCE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name)"
    f" DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _SOURCE_COLUMNS.split(', ')[1:])}"
)
_SOURCE_WIDTH = len(_SOURCE_COLUMNS.split(", "))


def _source_params(state: SourceState) -> tuple[object, ...]:
    return (state.name, state.etag, state.last_modified, state.last_fetch, state.last_success, state.last_status,
            state.last_error, state.error_count, state.next_due, state.interval, state.interval_reason)


def _poll_state(since: Sequence[datetime]) -> str:
    """`poll_state` as one row: the source's columns (NULL when never saved), then its counts; parameters: those of
    `_new_items`, then the source's name."""
    columns = ", ".join(f"s.{c}" for c in _SOURCE_COLUMNS.split(", "))
    return f"SELECT {columns}, c.* FROM ({_new_items(since)}) AS c LEFT JOIN sources s ON s.name = %s"


def _polled(name: str, row: Sequence[Any]) -> tuple[SourceState, list[int]]:
    state = _source_state(row[:_SOURCE_WIDTH]) if row[0] is not None else SourceState(name)
    return state, [int(n) for n in row[_SOURCE_WIDTH:]]


def _source_state(row: Sequence[Any]) -> SourceState:
    return SourceState(*row)


def _alert(row: TupleRow) -> Alert:
    return Alert(
        id=row[0], article_id=row[1], watchlist=row[2], kind=row[3], title=row[4], url=row[5], source=row[6],
        published=row[7], terms=tuple(row[8]), snippet=row[9], created=row[10], added=tuple(row[11]),
        also_in=tuple(row[12]),
    )
