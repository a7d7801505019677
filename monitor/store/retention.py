"""Retention: prune old articles (with their versions, matches and delivered alerts) and old article versions,
then VACUUM when enough of the file is free pages (`prune`, SQLite's; `Store.prune` runs it), as a background
task of the service (`prune_forever`).

An article goes when it was first and last seen before the cutoff, none of its alerts is still owed
to any notifier, and it is not in its source's latest listing (a feed answering 304 for months still
lists what it listed). Retention never decides what is news: the pipeline takes an item for new only
when the store does not know it, whatever its date. Rows of other components that point at a pruned
article or alert (found through the schema's foreign keys) go with it. Works in small batches, each
its own short transaction, so the service's writes never wait long; run it on a connection of its own.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.errors import MonitorError
from monitor.store import SEEN_RESOLUTION, Store
from monitor.store.migrations import apply_migrations
from monitor.store.sqlite_time import from_text, to_text
from monitor.store.sqlite_transaction import immediate

log = logging.getLogger(__name__)

BATCH = 500
VACUUM_MIN_FREE_PAGES = 1024  # 4 MiB with the default page size
VACUUM_MIN_FREE_SHARE = 0.2


RETENTION_MIGRATIONS = (
    "CREATE TABLE retention_state (id INTEGER PRIMARY KEY CHECK (id = 1), pruned_before TEXT)",
    "DROP TABLE retention_state",  # the pipeline no longer skips items dated before the last pruning
)


@dataclass
class PruneReport:
    """Rows removed per table, and whether the file was vacuumed."""

    removed: Counter[str] = field(default_factory=Counter)
    vacuumed: bool = False


@dataclass(frozen=True, slots=True)
class _Reference:
    table: str
    column: str
    parent: str  # "articles" or "alerts"
    has_status: bool


def _references(conn: sqlite3.Connection) -> list[_Reference]:
    """Every foreign key that points at `articles` or `alerts`, from any component's tables."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    found = []
    for table in tables:
        columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table!r})")}
        for fk in conn.execute(f"PRAGMA foreign_key_list({table!r})"):
            if fk[2] in ("articles", "alerts"):
                found.append(_Reference(table, fk[3], fk[2], "status" in columns))
    return found


def _owed_clause(refs: list[_Reference]) -> str:
    """SQL true when alert `al` is still owed somewhere (an outbox-like row with status 'owed')."""
    tests = [
        f'EXISTS (SELECT 1 FROM "{r.table}" d WHERE d."{r.column}" = al.id AND d.status = \'owed\')'
        for r in refs
        if r.parent == "alerts" and r.has_status
    ]
    return " OR ".join(tests) or "0"


def _prune_article_batch(conn: sqlite3.Connection, refs: list[_Reference], cutoff: str, report: PruneReport) -> int:
    with immediate(conn):
        conn.execute("DELETE FROM temp.doomed")
        conn.execute(
            "INSERT INTO temp.doomed SELECT a.id FROM articles a WHERE a.last_seen < ? AND a.first_seen < ?"
            " AND a.last_seen < (SELECT l.since FROM temp.listing l WHERE l.source = a.source)"
            f" AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.article_id = a.id AND ({_owed_clause(refs)}))"
            " LIMIT ?",
            (cutoff, cutoff, BATCH),
        )
        doomed = "(SELECT id FROM temp.doomed)"
        doomed_alerts = f"(SELECT id FROM alerts WHERE article_id IN {doomed})"
        for ref in refs:
            if ref.table == "articles":  # copies of a pruned original stand alone from now on
                conn.execute(f'UPDATE articles SET "{ref.column}" = NULL WHERE "{ref.column}" IN {doomed}')
            elif ref.parent == "alerts":
                report.removed[ref.table] += conn.execute(
                    f'DELETE FROM "{ref.table}" WHERE "{ref.column}" IN {doomed_alerts}'
                ).rowcount
        for ref in refs:
            if ref.parent == "articles" and ref.table != "articles":
                report.removed[ref.table] += conn.execute(
                    f'DELETE FROM "{ref.table}" WHERE "{ref.column}" IN {doomed}'
                ).rowcount
        count = conn.execute(f"DELETE FROM articles WHERE id IN {doomed}").rowcount
        report.removed["articles"] += count
    return count


def _prune_version_batch(conn: sqlite3.Connection, cutoff: str, report: PruneReport) -> int:
    """Old versions of articles that stay; the latest version of each article is always kept."""
    count = conn.execute(
        "DELETE FROM article_versions WHERE id IN (SELECT v.id FROM article_versions v WHERE v.seen_at < ?"
        " AND v.id < (SELECT MAX(w.id) FROM article_versions w WHERE w.article_id = v.article_id) LIMIT ?)",
        (cutoff, BATCH),
    ).rowcount
    report.removed["article_versions"] += count
    return count


def vacuum_if_worthwhile(conn: sqlite3.Connection) -> bool:
    """VACUUM when free pages are at least VACUUM_MIN_FREE_PAGES and VACUUM_MIN_FREE_SHARE of the file."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    if free < VACUUM_MIN_FREE_PAGES or free < VACUUM_MIN_FREE_SHARE * pages:
        return False
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


def _latest_listings(conn: sqlite3.Connection) -> None:
    """temp.listing: per source, the last_seen from which on its articles belong to its latest listing.

    A listing marks what it lists seen (to within SEEN_RESOLUTION), so that is everything seen within
    SEEN_RESOLUTION of the source's latest sighting.
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS listing (source TEXT PRIMARY KEY, since TEXT NOT NULL)")
    conn.execute("DELETE FROM temp.listing")
    latest = conn.execute("SELECT source, MAX(last_seen) FROM articles GROUP BY source").fetchall()
    conn.executemany(
        "INSERT INTO temp.listing VALUES (?, ?)",
        [(source, to_text(when - SEEN_RESOLUTION)) for source, seen in latest if (when := from_text(seen)) is not None],
    )


def prune(conn: sqlite3.Connection, older_than: datetime) -> PruneReport:
    """Prune what is older than `older_than` on an autocommit connection; VACUUM when worthwhile."""
    report = PruneReport()
    cutoff = to_text(older_than)
    apply_migrations(conn, "retention", RETENTION_MIGRATIONS)
    refs = _references(conn)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY)")
    _latest_listings(conn)
    while _prune_article_batch(conn, refs, cutoff, report) == BATCH:
        pass
    while _prune_version_batch(conn, cutoff, report) == BATCH:
        pass
    report.vacuumed = vacuum_if_worthwhile(conn)
    return report


async def prune_forever(
    store: Store, max_age: float, every: float, on_done: Callable[[PruneReport], None] | None = None
) -> None:
    """Every `every` seconds (the first time after at most 5 minutes), prune what is older than `max_age` s
    (in a worker thread: `Store.prune` works on a connection of its own)."""
    failures: tuple[type[Exception], ...] = (*store.faults, MonitorError)
    await asyncio.sleep(min(every, 300.0))
    while True:
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
        try:
            report = await asyncio.to_thread(store.prune, cutoff)
        except failures as exc:
            log.error("retention: pruning failed, will try again: %s", exc)
        else:
            log.info("retention: pruned %s%s", dict(report.removed) or "nothing",
                     " and vacuumed" if report.vacuumed else "")
            if on_done:
                on_done(report)
        await asyncio.sleep(every)
