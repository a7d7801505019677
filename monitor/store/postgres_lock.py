"""`AdvisoryLock`: a PostgreSQL session advisory lock held on a connection of its own, so that exactly one process
of those sharing a database does something at a time, and another takes over when that one dies (its connection
closes and the server releases the lock)."""

from __future__ import annotations

import hashlib

import psycopg

from monitor.store.postgres import connect
from monitor.store.postgres_telegram import Connection


class AdvisoryLock:
    """The lock named `name` on the database at `url`; `try_acquire` takes it if it is free, `held` says whether
    this process still has it (False once its connection is gone), `release` lets it go."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other session holds it (StorageError when the database cannot be reached)."""
        if self.held():
            return True
        self._conn = connect(self.url, timeout=5)
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if row and row[0]:
            return True
        self.release()
        return False

    def held(self) -> bool:
        """Whether this process holds the lock: its connection still answers."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()  # the server releases the session's advisory locks with it
