"""monitor.store.sqlite_transaction.immediate: commit, rollback (a failed COMMIT too), joining an open transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from monitor.store.sqlite_transaction import immediate


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:", isolation_level=None)
    c.execute("PRAGMA foreign_keys = ON")
    c.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
    yield c
    c.close()


def rows(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM parent").fetchone()[0])


def test_the_block_commits_or_rolls_back_on_an_error(conn: sqlite3.Connection) -> None:
    with immediate(conn):
        conn.execute("INSERT INTO parent VALUES (1)")
    with pytest.raises(ValueError), immediate(conn):
        conn.execute("INSERT INTO parent VALUES (2)")
        raise ValueError
    assert rows(conn) == 1 and not conn.in_transaction


def test_a_failed_commit_is_rolled_back(conn: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError), immediate(conn):  # the deferred foreign key fails at COMMIT
        conn.execute("INSERT INTO parent VALUES (1)")
        conn.execute("INSERT INTO child VALUES (7)")
    assert not conn.in_transaction and rows(conn) == 0


def test_inside_an_open_transaction_it_is_part_of_that_one(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError), immediate(conn):
        with immediate(conn):
            conn.execute("INSERT INTO parent VALUES (1)")
        assert conn.in_transaction
        raise ValueError
    assert rows(conn) == 0
