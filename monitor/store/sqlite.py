"""`SqliteStore`: the embedded default store (one SQLite file in WAL mode, one connection)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from monitor.errors import StorageError
from monitor.fingerprint import bands, from_signed, to_signed
from monitor.records import Alert, AlertKind, Article, Match, SourceState
from monitor.store import (
    OWED,
    RECENT_ENTRIES,
    SEEN_RESOLUTION,
    Candidate,
    Recorded,
    Revision,
    Store,
    StoredArticle,
)
from monitor.store.batch import NEAR_DUPLICATE_CANDIDATES, Band, Batch, Originals, near_duplicate, newest_per_band
from monitor.store.migrations import apply_migrations
from monitor.store.retention import PruneReport, prune
from monitor.store.sqlite_time import from_text as _dt
from monitor.store.sqlite_time import to_text as _ts
from monitor.store.sqlite_transaction import immediate
from monitor.store.telegram import TelegramStoreMixin

CORE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        last_fetch TEXT,
        last_success TEXT,
        last_status INTEGER,
        last_error TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        next_due TEXT
    );
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        guid TEXT,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        fingerprint INTEGER NOT NULL,  -- SimHash as signed 64-bit (monitor.fingerprint.to_signed)
        entry_hash TEXT NOT NULL DEFAULT '',
        published TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        duplicate_of TEXT REFERENCES articles (id)  -- a syndicated copy of this article
    );
    CREATE INDEX articles_guid ON articles (guid);
    CREATE INDEX articles_first_seen ON articles (first_seen);
    CREATE INDEX articles_duplicate_of ON articles (duplicate_of);
    -- Near-duplicate lookup: an article's fingerprint bands (monitor.fingerprint.bands), one row each.
    CREATE TABLE article_bands (
        band INTEGER NOT NULL,
        value INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        article_id TEXT NOT NULL REFERENCES articles (id),
        fingerprint INTEGER NOT NULL,
        PRIMARY KEY (band, value, first_seen, article_id)
    ) WITHOUT ROWID;
    CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles (id),
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX article_versions_article ON article_versions (article_id);
    -- Other ways to reach a stored article: another canonical URL's id, or another feed GUID.
    CREATE TABLE article_aliases (
        kind TEXT NOT NULL CHECK (kind IN ('id', 'guid')),
        value TEXT NOT NULL,
        article_id TEXT NOT NULL REFERENCES articles (id),
        PRIMARY KEY (kind, value)
    );
    CREATE TABLE matches (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles (id),
        content_hash TEXT NOT NULL,
        watchlist TEXT NOT NULL,
        query TEXT NOT NULL,
        terms TEXT NOT NULL,
        snippet TEXT NOT NULL,
        score REAL NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (article_id, content_hash, watchlist, query)
    );
    -- At most one alert per article and watch list, ever: an edit alerts only where nothing did.
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL REFERENCES articles (id),
        watchlist TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('new', 'updated')),
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        published TEXT,
        terms TEXT NOT NULL,
        snippet TEXT NOT NULL,
        added TEXT NOT NULL DEFAULT '[]',
        also_in TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL,
        UNIQUE (article_id, watchlist)
    );
    CREATE INDEX alerts_created ON alerts (created);
    CREATE TABLE outbox (
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        notifier TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('owed', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT,
        delivered_at TEXT,
        PRIMARY KEY (alert_id, notifier)
    );
    CREATE INDEX outbox_owed ON outbox (notifier, status, alert_id);
    """,
    # Only articles that alerted are near-duplicate originals: the band index holds those alone.
    """
    DELETE FROM article_bands WHERE article_id NOT IN (SELECT article_id FROM alerts);
    """,
    """
    CREATE INDEX articles_source ON articles (source, first_seen);
    """,
    # Dead letters: failed attempts that count towards a notifier's max_attempts, and when one was given up on.
    """
    ALTER TABLE outbox ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN failed_at TEXT;
    CREATE INDEX outbox_dead_letters ON outbox (failed_at) WHERE status = 'failed';
    """,
    # Adaptive polling: the interval chosen after a source's last poll, and why.
    """
    ALTER TABLE sources ADD COLUMN poll_interval REAL;
    ALTER TABLE sources ADD COLUMN poll_reason TEXT;
    """,
    # Source health (monitor.sourcehealth): what is learnt of each source and its open problems, as JSON; and
    # when an alerted article's page was last checked for edits the feed does not show (page re-checks).
    """
    CREATE TABLE source_health (key TEXT PRIMARY KEY, state TEXT NOT NULL);
    ALTER TABLE articles ADD COLUMN page_checked TEXT;
    ALTER TABLE articles ADD COLUMN page_url TEXT;  -- where the page was read, when not at the canonical URL
    """,
)
_SOURCE_COLUMNS = (
    "name, etag, last_modified, last_fetch, last_success, last_status, last_error, error_count, next_due,"
    " poll_interval, poll_reason"
)

_ALERT_COLUMNS = (
    "a.id, a.article_id, a.watchlist, a.kind, a.title, a.url, a.source, a.published, a.terms, a.snippet,"
    " a.created, a.added, a.also_in"
)


def _columns(count: int) -> str:
    """The first `count` elements of the arrays `json_each` yields, as columns (rows passed as one JSON array)."""
    return ", ".join(f"json_extract(value, '$[{i}]')" for i in range(count))


def _json(rows: object) -> str:
    return json.dumps(rows, ensure_ascii=False)


# Each key of a JSON array of [id, GUID, stored id] with the stored article it leads to (the id, an id alias,
# the GUID, a GUID alias, the stored id, in that order) and the watch lists that alerted on it or on its
# original: one statement.
_FIND_ARTICLES = f"""
WITH k (n, id, guid, known) AS (SELECT key, {_columns(3)} FROM json_each(?)),
r (n, target) AS (SELECT n, (SELECT id FROM articles WHERE id = k.id
    UNION ALL SELECT article_id FROM article_aliases WHERE kind = 'id' AND value = k.id
    UNION ALL SELECT id FROM articles WHERE guid = k.guid
    UNION ALL SELECT article_id FROM article_aliases WHERE kind = 'guid' AND value = k.guid
    UNION ALL SELECT id FROM articles WHERE id = k.known LIMIT 1) FROM k)
SELECT r.n, a.id, a.url, a.source, a.guid, a.title, a.text, a.content_hash, a.fingerprint, a.entry_hash,
    a.first_seen, a.duplicate_of,
    (SELECT json_group_array(watchlist) FROM alerts WHERE article_id IN (a.id, a.duplicate_of))
FROM r JOIN articles a ON a.id = r.target
"""

# Band, value, fingerprint, first seen and id of the index rows of each band of a JSON array of [band, value] first
# seen at or after a time: the newest NEAR_DUPLICATE_CANDIDATES + 1 and any first seen with the last of them (the
# cut, found walking the primary key backwards from the newest), one statement.
_NEAR_DUPLICATES = f"""
WITH k (band, value) AS (SELECT {_columns(2)} FROM json_each(:keys)),
c (band, value, cut) AS (SELECT band, value, (SELECT first_seen FROM article_bands b
    WHERE b.band = k.band AND b.value = k.value AND b.first_seen >= :since ORDER BY b.first_seen DESC LIMIT 1
    OFFSET {NEAR_DUPLICATE_CANDIDATES}) FROM k)
SELECT b.band, b.value, b.fingerprint, b.first_seen, b.article_id FROM c JOIN article_bands b
    ON b.band = c.band AND b.value = c.value AND b.first_seen >= COALESCE(c.cut, :since)
"""


def _check_writable(path: Path) -> None:
    """Make the database's folder; StorageError unless this user may write it and the file (SQLite would open a
    read-only file read-only without a word, and keeps its journal files in the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_access(path, path.parent)


def _check_access(path: Path, folder: Path) -> None:
    """StorageError unless this user may write `folder` (the file's, or the first of them that exists) and the file."""
    for what, place, mode in (("folder", folder, os.W_OK | os.X_OK), ("file", path, os.R_OK | os.W_OK)):
        if place.exists() and not os.access(place, mode):
            raise StorageError(f"cannot open the store at {path}: this user cannot write the {what} {place}; "
                               "fix its permissions or set storage.path to a place this user can write")


def file_state(path: Path) -> str:
    """Whether the store could open its file, found without creating or changing anything: "a database", or
    "not created yet" when the folder it goes in can be made or written; StorageError when it could not."""
    try:
        folder = next(p for p in path.parents if p.exists())
        if not folder.is_dir():
            raise StorageError(f"cannot open the store at {path}: {folder} is a file, not a folder")
        _check_access(path, folder)
        if not path.exists():
            return "not created yet (the first run makes it)"
        if path.is_dir():
            raise StorageError(f"cannot open the store at {path}: it is a folder, not a database file")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # reads the header: an error unless it is SQLite's
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open the store at {path}: {exc}") from exc
    return "a database"


def _connect(path: str) -> sqlite3.Connection:
    """A connection to the store's file in WAL mode, set up as the store uses it (StorageError if it cannot be)."""
    try:
        if path != ":memory:":
            _check_writable(Path(path))
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open the store at {path}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        _configure(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"cannot open the store at {path}: {exc}") from exc
    return conn


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")


class SqliteStore(TelegramStoreMixin, Store):
    """Source state, articles, matches and the alert outbox in one SQLite file.

    One connection, used from one thread at a time (the service's event loop). `clock` gives
    "now" for first/last seen and alert times; tests may fix it.
    """

    faults = (sqlite3.Error,)

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = str(path)
        self.conn = _connect(self.path)
        self._clock = clock or (lambda: datetime.now(UTC))
        try:
            apply_migrations(self.conn, "core", CORE_MIGRATIONS)
            self.migrate_telegram()
        except sqlite3.Error as exc:
            self.conn.close()
            raise StorageError(f"cannot open or migrate the store at {self.path}: {exc}") from exc

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection, for other components' tables (see `migrations.apply_migrations`)."""
        return self.conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """`sqlite_transaction.immediate` on the store's connection: joins a transaction already open.

        Also the way to batch: `with store.transaction(): ...` around many `save_article` calls
        commits them together (one WAL write instead of one per article).
        """
        return immediate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def snapshot(self) -> SqliteStore:
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.conn.backup(copy)
        _configure(copy)
        store = SqliteStore.__new__(SqliteStore)
        store.path, store.conn, store._clock = ":memory:", copy, self._clock
        return store

    def prune(self, older_than: datetime) -> PruneReport:
        conn = _connect(self.path)
        try:
            return prune(conn, older_than)
        finally:
            conn.close()

    # sources

    def source_state(self, name: str) -> SourceState:
        row = self.conn.execute(f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE name = ?", (name,)).fetchone()
        return SourceState(name) if row is None else _source_state(row)

    def save_source_state(self, state: SourceState) -> None:
        self.conn.execute(
            f"INSERT OR REPLACE INTO sources ({_SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.name,
                state.etag,
                state.last_modified,
                _ts(state.last_fetch),
                _ts(state.last_success),
                state.last_status,
                state.last_error,
                state.error_count,
                _ts(state.next_due),
                state.interval,
                state.interval_reason,
            ),
        )

    def source_states(self) -> list[SourceState]:
        rows = self.conn.execute(f"SELECT {_SOURCE_COLUMNS} FROM sources ORDER BY name")
        return [_source_state(row) for row in rows]

    def new_items(self, source: str, since: Sequence[datetime]) -> list[int]:
        counts = ", ".join("COALESCE(SUM(arrived >= ?), 0)" for _ in since)
        row = self.conn.execute(
            f"SELECT {counts} FROM (SELECT MIN(COALESCE(published, first_seen), first_seen) AS arrived"
            " FROM articles WHERE source = ? AND first_seen >= ?)",
            (*map(_ts, since), source, _ts(min(since))),
        ).fetchone()
        return [int(n) for n in row]

    # source health

    def health_states(self) -> dict[str, dict[str, Any]]:
        return {key: json.loads(state) for key, state in self.conn.execute("SELECT key, state FROM source_health")}

    def save_health_state(self, key: str, state: dict[str, Any] | None) -> None:
        if state is None:
            self.conn.execute("DELETE FROM source_health WHERE key = ?", (key,))
        else:
            self.conn.execute("INSERT OR REPLACE INTO source_health (key, state) VALUES (?, ?)", (key, _json(state)))

    # articles

    def find_articles(self, keys: Sequence[tuple[str, str | None]]) -> list[StoredArticle | None]:
        return self._find([(article_id, guid, None) for article_id, guid in keys])

    def pages_to_recheck(
        self, sources: Sequence[str], alerted_since: datetime, checked_before: datetime, limit: int
    ) -> list[tuple[StoredArticle, str]]:
        rows = self.conn.execute(
            "SELECT a.id, COALESCE(a.page_url, a.url)"
            " FROM (SELECT article_id, MIN(created) AS first FROM alerts GROUP BY article_id"
            " HAVING MIN(created) >= ?) f JOIN articles a ON a.id = f.article_id"
            " WHERE a.duplicate_of IS NULL AND a.source IN (SELECT value FROM json_each(?))"
            " AND COALESCE(a.page_checked, f.first) < ? ORDER BY COALESCE(a.page_checked, f.first), a.id LIMIT ?",
            (_ts(alerted_since), _json(list(sources)), _ts(checked_before), limit),
        ).fetchall()
        found = self.find_articles([(r[0], None) for r in rows])
        return [(a, r[1]) for a, r in zip(found, rows, strict=True) if a is not None]

    def save_page_urls(self, urls: Mapping[str, str]) -> None:
        self.conn.executemany("UPDATE articles SET page_url = ? WHERE id = ?", [(u, i) for i, u in urls.items()])

    def mark_pages_checked(self, ids: Sequence[str], at: datetime) -> None:
        self.conn.execute(
            "UPDATE articles SET page_checked = ? WHERE id IN (SELECT value FROM json_each(?))", (_ts(at), _json(ids))
        )

    def _find(self, keys: Sequence[tuple[str, str | None, str | None]]) -> list[StoredArticle | None]:
        """`find_articles` with a stored id to fall back on for each key."""
        found: list[StoredArticle | None] = [None] * len(keys)
        for row in self.conn.execute(_FIND_ARTICLES, (_json(keys),)) if keys else ():
            found[row[0]] = StoredArticle(
                id=row[1],
                url=row[2],
                source=row[3],
                guid=row[4],
                title=row[5],
                text=row[6],
                content_hash=row[7],
                fingerprint=from_signed(row[8]),
                entry_hash=row[9],
                first_seen=cast(datetime, _dt(row[10])),
                duplicate_of=row[11],
                alerted=frozenset(json.loads(row[12])),
            )
        return found

    def _alerted(self, article_id: str, duplicate_of: str | None) -> frozenset[str]:
        """Watch lists that alerted on the article, or on the original it is a copy of."""
        rows = self.conn.execute(
            "SELECT watchlist FROM alerts WHERE article_id = ? OR article_id = ?", (article_id, duplicate_of)
        )
        return frozenset(r[0] for r in rows)

    def recent_entry_hashes(self, source: str, limit: int = RECENT_ENTRIES) -> frozenset[str]:
        rows = self.conn.execute(
            "SELECT entry_hash FROM articles WHERE source = ? ORDER BY first_seen DESC LIMIT ?", (source, limit)
        )
        return frozenset(r[0] for r in rows)

    def find_near_duplicate(self, fingerprint: int, since: datetime, exclude_id: str) -> StoredArticle | None:
        return near_duplicate(self, fingerprint, since, exclude_id)

    def _near_duplicates(self, keys: Collection[Band], since: datetime) -> Originals:
        rows = self.conn.execute(_NEAR_DUPLICATES, {"keys": _json(list(keys)), "since": _ts(since)})
        return newest_per_band(keys, ((band, value, from_signed(other), cast(datetime, _dt(seen)), article_id)
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
        """See `Store.record`. Candidates are looked up together, and so are their near duplicates (`Batch`); new
        articles that alert on nothing and sightings of unchanged ones are written in bulk, the rest one by one."""
        with self.transaction():
            batch = Batch(self, candidates, seen_at)
            done = [batch.record(n, revise, notifiers) for n in range(len(candidates))]
            batch.flush()
            if listed:
                self.conn.execute(
                    "UPDATE articles SET last_seen = ? WHERE id IN (SELECT value FROM json_each(?)) AND last_seen < ?",
                    (_ts(seen_at), _json(list(listed)), _ts(seen_at - SEEN_RESOLUTION)),
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
        with self.transaction():
            edited = self._upsert_article(target, article, fingerprint, entry_hash, now)
            self._add_aliases(target, article)
            if duplicate_of is not None:
                self._record_copy(target, article.source, duplicate_of)
                return []
            for match in matches:
                self._insert_match(target, article.content_hash, match, now)
            alerts = self._create_alerts(target, article, kind, matches, notifiers, added, now)
            if alerts or (edited and self._has_alerts(target)):  # an edit dropped an original's old bands
                self._index_bands(target, fingerprint)
            return alerts

    def _has_alerts(self, article_id: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM alerts WHERE article_id = ? LIMIT 1", (article_id,)).fetchone()
        return row is not None

    def _upsert_article(self, target: str, article: Article, fingerprint: int, entry_hash: str, now: datetime) -> bool:
        """Insert or update the article row; add a version row when the content is new or changed.

        Returns whether a stored article's content changed (its near-duplicate bands are dropped then).
        """
        row = self.conn.execute(
            "SELECT content_hash, fingerprint, first_seen FROM articles WHERE id = ?", (target,)
        ).fetchone()
        if row is None:
            self._insert_articles([(target, article, fingerprint, entry_hash, now)])
            return False
        self.conn.execute(
            "UPDATE articles SET title = ?, text = ?, content_hash = ?, fingerprint = ?, entry_hash = ?,"
            " published = COALESCE(?, published), guid = COALESCE(guid, ?), last_seen = ? WHERE id = ?",
            (
                article.title,
                article.text,
                article.content_hash,
                to_signed(fingerprint),
                entry_hash,
                _ts(article.published),
                article.guid,
                _ts(now),
                target,
            ),
        )
        if row[0] == article.content_hash:
            return False
        self.conn.executemany(
            "DELETE FROM article_bands WHERE band = ? AND value = ? AND first_seen = ? AND article_id = ?",
            [(band, value, row[2], target) for band, value in enumerate(bands(from_signed(row[1])))],
        )
        self._insert_versions([(target, article, now)])
        return True

    def _insert_articles(self, rows: Sequence[tuple[str, Article, int, str, datetime]]) -> None:
        """New articles (id, article, fingerprint, entry hash, first seen) and their first versions."""
        self.conn.executemany(
            "INSERT INTO articles (id, url, source, guid, title, text, content_hash, fingerprint, entry_hash,"
            " published, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (target, a.url, a.source, a.guid, a.title, a.text, a.content_hash, to_signed(fingerprint), entry,
                 _ts(a.published), _ts(now), _ts(now))
                for target, a, fingerprint, entry, now in rows
            ],
        )
        self._insert_versions([(target, a, now) for target, a, _, _, now in rows])

    def _insert_versions(self, rows: Sequence[tuple[str, Article, datetime]]) -> None:
        # executemany, not one statement over json_each: reading long texts out of JSON costs more than the steps
        self.conn.executemany(
            "INSERT INTO article_versions (article_id, content_hash, title, text, seen_at) VALUES (?, ?, ?, ?, ?)",
            [(target, a.content_hash, a.title, a.text, _ts(now)) for target, a, now in rows],
        )

    def _index_bands(self, target: str, fingerprint: int) -> None:
        """Make an article that alerted findable as a near-duplicate original (by its current fingerprint)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO article_bands (band, value, first_seen, article_id, fingerprint)"
            " SELECT ?, ?, first_seen, id, fingerprint FROM articles WHERE id = ?",
            [(band, value, target) for band, value in enumerate(bands(fingerprint))],
        )

    def _add_aliases(self, target: str, article: Article) -> None:
        """Let the article's own id and GUID lead to `target` when they are not its row's."""
        row = self.conn.execute("SELECT guid FROM articles WHERE id = ?", (target,)).fetchone()
        aliases = [("id", article.id)] if article.id != target else []
        if article.guid and article.guid != row[0]:
            aliases.append(("guid", article.guid))
        self.conn.executemany(
            "INSERT OR IGNORE INTO article_aliases (kind, value, article_id) VALUES (?, ?, ?)",
            [(kind, value, target) for kind, value in aliases],
        )

    def _root(self, article_id: str) -> str:
        """The original an article is a copy of (following copies of copies), or the article itself."""
        seen = {article_id}
        while True:
            row = self.conn.execute("SELECT duplicate_of FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None or row[0] is None or row[0] in seen:
                return article_id
            article_id = row[0]
            seen.add(article_id)

    def _record_copy(self, target: str, outlet: str, duplicate_of: str) -> None:
        """Remember that `target` is a copy; list its outlet in the original's alerts."""
        root = self._root(duplicate_of)
        if root == target:
            return
        self.conn.execute("UPDATE articles SET duplicate_of = ? WHERE id = ?", (root, target))
        rows = self.conn.execute(
            "SELECT al.id, al.also_in, ar.source FROM alerts al JOIN articles ar ON ar.id = al.article_id"
            " WHERE al.article_id = ?",
            (root,),
        ).fetchall()
        for alert_id, also_in_json, own_source in rows:
            also_in: list[str] = json.loads(also_in_json)
            if outlet != own_source and outlet not in also_in:
                also_in.append(outlet)
                self.conn.execute("UPDATE alerts SET also_in = ? WHERE id = ?", (json.dumps(also_in), alert_id))

    def _insert_match(self, target: str, content_hash: str, match: Match, now: datetime) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO matches (article_id, content_hash, watchlist, query, terms, snippet, score, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                target,
                content_hash,
                match.watchlist,
                match.query,
                json.dumps(match.terms),
                match.snippet,
                match.score,
                _ts(now),
            ),
        )

    def _create_alerts(
        self,
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
        duplicate_of = self.conn.execute("SELECT duplicate_of FROM articles WHERE id = ?", (target,)).fetchone()[0]
        already = self._alerted(target, duplicate_of)
        best: dict[str, Match] = {}
        for match in matches:
            current = best.get(match.watchlist)
            if match.watchlist not in already and (current is None or match.score > current.score):
                best[match.watchlist] = match
        if not best:
            return []
        also_in = self._copies_outlets(target, article.source)
        created: list[Alert] = []
        for match in best.values():
            row = self.conn.execute(
                "INSERT INTO alerts (article_id, watchlist, kind, title, url, source, published, terms, snippet,"
                " added, also_in, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (article_id, watchlist) DO NOTHING RETURNING id",
                (
                    target,
                    match.watchlist,
                    kind,
                    article.title,
                    article.url,
                    article.source,
                    _ts(article.published),
                    json.dumps(match.terms),
                    match.snippet,
                    json.dumps(list(added)),
                    json.dumps(also_in),
                    _ts(now),
                ),
            ).fetchone()
            if row is None:
                continue
            self.conn.executemany(
                "INSERT INTO outbox (alert_id, notifier, status, next_attempt) VALUES (?, ?, 'owed', ?)",
                [(row[0], notifier, _ts(now)) for notifier in dict.fromkeys(notifiers)],
            )
            created.append(self.alert(row[0]))
        return created

    def _copies_outlets(self, target: str, own_source: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT source FROM articles WHERE duplicate_of = ? AND source != ?"
            " GROUP BY source ORDER BY MIN(first_seen)",
            (target, own_source),
        )
        return [r[0] for r in rows]

    def _mark_seen(self, sightings: Sequence[tuple[str, str]], seen_at: datetime) -> None:
        """Stored articles (id, feed entry) seen again unchanged: remember the entry and when, in bulk."""
        self.conn.execute(
            "WITH s (id, entry) AS (SELECT " + _columns(2) + " FROM json_each(?))"
            " UPDATE articles SET entry_hash = s.entry, last_seen = ? FROM s WHERE articles.id = s.id",
            (_json(sightings), _ts(seen_at)),
        )

    # outbox

    def alert(self, alert_id: int) -> Alert:
        row = self.conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.id = ?", (alert_id,)).fetchone()
        return _alert(row)

    def owed(self, notifier: str, now: datetime, limit: int = 100) -> list[Alert]:
        rows = self.conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM outbox o JOIN alerts a ON a.id = o.alert_id"
            " WHERE o.notifier = ? AND o.status = 'owed' AND o.next_attempt <= ? ORDER BY a.id LIMIT ?",
            (notifier, _ts(now), limit),
        )
        return [_alert(row) for row in rows]

    def attempts(self, alert_id: int, notifier: str) -> int:
        row = self.conn.execute(
            "SELECT attempts FROM outbox WHERE alert_id = ? AND notifier = ?", (alert_id, notifier)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def mark_delivered(self, alert_id: int, notifier: str) -> None:
        self._update_outbox(
            alert_id, notifier, "status = 'delivered', delivered_at = ?, last_error = NULL", _ts(self._clock())
        )

    def strikes(self, alert_id: int, notifier: str) -> int:
        row = self.conn.execute(
            "SELECT strikes FROM outbox WHERE alert_id = ? AND notifier = ?", (alert_id, notifier)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def mark_retry(
        self, alert_id: int, notifier: str, error: str, next_attempt: datetime, *, strike: bool = True
    ) -> None:
        self._update_outbox(
            alert_id,
            notifier,
            "attempts = attempts + 1, strikes = strikes + ?, last_error = ?, next_attempt = ?",
            int(strike),
            error,
            _ts(next_attempt),
        )

    def mark_failed(self, alert_id: int, notifier: str, error: str) -> None:
        self._update_outbox(
            alert_id,
            notifier,
            "status = 'failed', attempts = attempts + 1, last_error = ?, failed_at = ?",
            error,
            _ts(self._clock()),
        )

    def dead_letters(self, since: datetime) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND failed_at >= ?", (_ts(since),)
        ).fetchone()
        return int(row[0]) + self.telegram_dead_letters(since)

    def _update_outbox(self, alert_id: int, notifier: str, assignments: str, *values: Any) -> None:
        self.conn.execute(
            f"UPDATE outbox SET {assignments} WHERE alert_id = ? AND notifier = ? AND status = 'owed'",
            (*values, alert_id, notifier),
        )

    def outbox_depth(self, notifier: str | None = None) -> int:
        return sum(self._owed(notifier).values())

    def redeliver(self, since: datetime, notifier: str | None = None) -> tuple[int, int]:
        now = self._clock()
        with immediate(self.conn) as conn:
            outbox = conn.execute(
                "UPDATE outbox SET status = 'owed', attempts = 0, strikes = 0, last_error = NULL, failed_at = NULL,"
                " next_attempt = ? WHERE status = 'failed' AND failed_at >= ? AND (? IS NULL OR notifier = ?)",
                (_ts(now), _ts(since), notifier, notifier),
            ).rowcount
        return outbox, self.telegram_redeliver(since, now, notifier)

    def owed_by_notifier(self) -> dict[str, int]:
        return self._owed(None)

    def _owed(self, notifier: str | None) -> dict[str, int]:
        rows = self.conn.execute(f"SELECT notifier, COUNT(*) FROM ({OWED}) WHERE ? IS NULL OR notifier = ? GROUP BY 1",
                                 (notifier, notifier))
        return {str(name): int(count) for name, count in rows}

    def oldest_owed(self) -> datetime | None:
        row = self.conn.execute(
            "SELECT MIN(a.created) FROM outbox o JOIN alerts a ON a.id = o.alert_id WHERE o.status = 'owed'"
        ).fetchone()
        return _dt(row[0])

    def recent_alerts(
        self, limit: int = 5, watchlists: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[Alert]:
        clauses, params = [], []  # no clause without a bound: the newest rows are then read off the id, unsorted
        if since is not None:
            clauses, params = ["a.created >= ?"], [_ts(since)]
        if watchlists is not None:
            clauses.append(f"a.watchlist IN ({','.join('?' * len(watchlists))})")
            params += watchlists
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts a{where} ORDER BY a.id DESC LIMIT ?", (*params, limit)
        )
        return [_alert(row) for row in rows]

    def stats_since(self, since: datetime) -> dict[str, int]:
        """Alerts created at or after `since`, per watch list."""
        rows = self.conn.execute(
            "SELECT watchlist, COUNT(*) FROM alerts WHERE created >= ? GROUP BY watchlist ORDER BY watchlist",
            (_ts(since),),
        )
        return {r[0]: int(r[1]) for r in rows}

    def alerts_per_day(self, since: datetime) -> dict[tuple[str, date], int]:
        rows = self.conn.execute(  # `created` is ISO-8601 UTC text: its first ten characters are the day
            "SELECT watchlist, substr(created, 1, 10) AS day, COUNT(*) FROM alerts WHERE created >= ?"
            " GROUP BY watchlist, day",
            (_ts(since),),
        )
        return {(r[0], date.fromisoformat(r[1])): int(r[2]) for r in rows}


def _source_state(row: tuple[Any, ...]) -> SourceState:
    return SourceState(
        name=row[0],
        etag=row[1],
        last_modified=row[2],
        last_fetch=_dt(row[3]),
        last_success=_dt(row[4]),
        last_status=row[5],
        last_error=row[6],
        error_count=row[7],
        next_due=_dt(row[8]),
        interval=row[9],
        interval_reason=row[10],
    )


def _alert(row: tuple[Any, ...]) -> Alert:
    return Alert(
        id=row[0],
        article_id=row[1],
        watchlist=row[2],
        kind=row[3],
        title=row[4],
        url=row[5],
        source=row[6],
        published=_dt(row[7]),
        terms=tuple(json.loads(row[8])),
        snippet=row[9],
        created=cast(datetime, _dt(row[10])),
        added=tuple(json.loads(row[11])),
        also_in=tuple(json.loads(row[12])),
    )
