"""What the engine on PostgreSQL (`monitor.engine`) asks of the database: procrastinate's schema as one more
migrated component, and which polls and deliveries are due and not queued yet (one statement each)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import version

from procrastinate.schema import SchemaManager

from monitor.store.postgres import PostgresStore, apply_migrations, connect, schema_version

COMPONENT = "procrastinate"
POLL_LOCK = "poll:"  # + the source's name: the lock and queueing lock of its poll jobs
DELIVER_LOCK = "deliver:"  # + the notifier's name

# procrastinate's schema as its 3.x release ships it, applied once (`procrastinate schema --apply` in one
# transaction). A later procrastinate release with migrations of its own appends them here, in order.
# Then: the job fetch never plans a sequential scan. Its look-up of jobs holding the same lock runs once per
# candidate job; planned as a scan of the whole table (seen after an autoanalyze of a small, bloated jobs table:
# every job updated twice and deleted leaves dead rows until the next autovacuum), each fetch read 3,000 pages
# and a poll's throughput halved (bench/scale.py); its partial indexes of waiting and running jobs serve it.
MIGRATIONS: tuple[str, ...] = (
    SchemaManager.get_schema(),
    "ALTER FUNCTION procrastinate_fetch_job_v2(character varying[], bigint) SET enable_seqscan = off",
)

# The sources of `names` that are due by %(until)s (or were never polled), leaving out those with a poll job waiting or
# running; with whether the source was never polled, and when it is due.
_DUE_POLLS = """
SELECT n.name, s.name IS NULL, s.next_due FROM unnest(%(names)s::text[]) AS n (name)
LEFT JOIN sources s ON s.name = n.name
WHERE (s.next_due IS NULL OR s.next_due <= %(until)s)
AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queueing_lock = %(prefix)s || n.name AND j.status = 'todo')
AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.lock = %(prefix)s || n.name AND j.status = 'doing')
"""

# The notifiers owed a delivery that is due, leaving out those with a delivery job waiting.
_DUE_DELIVERIES = """
SELECT DISTINCT o.notifier FROM outbox o
WHERE o.status = 'owed' AND o.next_attempt <= %(now)s
AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queueing_lock = %(prefix)s || o.notifier
    AND j.status = 'todo')
"""


def engine_version() -> str:
    return f"procrastinate {version('procrastinate')}"


def migrate(url: str) -> int:
    """Apply procrastinate's schema when it is not yet (once, however many processes start at once)."""
    with connect(url) as conn:
        return apply_migrations(conn, COMPONENT, MIGRATIONS)


def engine_state(url: str) -> str:
    """The engine, and whether its schema is in the database, in words (StorageError when unreachable)."""
    with connect(url, timeout=5) as conn:
        applied = schema_version(conn, COMPONENT)
    where = "its schema applied" if applied >= len(MIGRATIONS) else "its schema not applied yet (the first run does)"
    return f"{engine_version()} on the same database, {where}"


def engine_running(url: str, within: float) -> str | None:
    """Which engine processes sent a heartbeat in the last `within` seconds ("N engine processes"), or None."""
    with connect(url, timeout=5) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT COUNT(*) FROM procrastinate_workers WHERE last_heartbeat > now() - %s"
                           " * interval '1 second'", (within,)).fetchone()
    count = int(row[0]) if row else 0
    return f"{count} engine process(es) (monitor run / monitor worker)" if count else None


def due_polls(store: PostgresStore, names: Sequence[str], until: datetime) -> list[tuple[str, bool, datetime | None]]:
    """(name, never polled, next due) of the sources of `names` due by `until` that no poll job waits for or runs."""
    with store.transaction() as conn:
        rows = conn.execute(_DUE_POLLS, {"names": list(names), "until": until, "prefix": POLL_LOCK}).fetchall()
    return [(str(name), bool(fresh), due) for name, fresh, due in rows]


def due_deliveries(store: PostgresStore, now: datetime) -> list[str]:
    """The notifiers owed a delivery due at `now` for which no delivery job waits."""
    with store.transaction() as conn:
        rows = conn.execute(_DUE_DELIVERIES, {"now": now, "prefix": DELIVER_LOCK}).fetchall()
    return [str(row[0]) for row in rows]
