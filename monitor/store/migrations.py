"""Versioned schema migrations per component ("core", "telegram", ...), each in its own transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from monitor.store.sqlite_time import to_text
from monitor.store.sqlite_transaction import immediate

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
)
"""


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """The last migration applied for `component` (0 for none)."""
    conn.execute(_LEDGER)
    row = conn.execute("SELECT MAX(version) FROM schema_migrations WHERE component = ?", (component,)).fetchone()
    return int(row[0] or 0)


def apply_migrations(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply the migrations of `component` not applied yet; return its version now.

    `migrations[i]` is version i + 1: SQL text of one or more statements. Never edit a released
    migration; append a new one. The connection must be in autocommit mode (`isolation_level=None`).
    Each migration and its ledger row commit together, under a write lock, so concurrent openers
    apply each version once.
    """
    conn.execute(_LEDGER)
    for version, sql in enumerate(migrations, start=1):
        with immediate(conn):
            if schema_version(conn, component) < version:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)",
                    (component, version, to_text(datetime.now(UTC))),
                )
    return schema_version(conn, component)


def _statements(sql: str) -> Iterator[str]:
    """Split SQL text into complete statements (semicolons inside strings or triggers stay put)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise sqlite3.ProgrammingError(f"incomplete SQL statement in migration: {pending.strip()!r}")
