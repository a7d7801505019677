"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.demo import StaticSite, seed_routes
from monitor.store.sqlite import SqliteStore
from tests import postgres
from tests.servers import LoopbackServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes tens of seconds (creates a virtualenv, say); -m 'not slow' leaves it out"
    )
    config.addinivalue_line(
        "markers", "postgres: needs a PostgreSQL server (a throwaway cluster, installed with apt-get when missing)"
    )
    os.environ.pop("MONITOR_DATABASE_URL", None)  # a developer's own database must never take the tests' writes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Install PostgreSQL's server before the tests run, when one needs it (apt-get may take longer than a test's
    timeout); a failure is reported by the `postgres_cluster` fixture."""
    if any(item.get_closest_marker("postgres") for item in items):
        postgres.install_once()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[postgres.Cluster]:
    """One throwaway PostgreSQL server for the session (see tests/postgres.py). Without one the test is skipped,
    except in CI (CI set), where it fails: .ci/run must run these tests."""
    try:
        cluster = postgres.Cluster(postgres.install_once())
    except postgres.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no PostgreSQL server for the postgres tests: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: postgres.Cluster) -> Iterator[str]:
    """The URL of a new database with the store's schema, for this test alone."""
    with postgres_cluster.database() as url:
        yield url


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A real HTTP server on 127.0.0.1 (ephemeral port), stopped after the test; add routes to it."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def site() -> Iterator[StaticSite]:
    """The seed site (monitor/demo/data: a feed, its story and a decoy page) on 127.0.0.1; its routes may change."""
    with StaticSite({}) as server:
        server.routes = seed_routes(server.base)
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A SqliteStore (a Store and a TelegramStore) in the test's folder, closed after the test."""
    opened = SqliteStore(tmp_path / "monitor.sqlite3")
    yield opened
    opened.close()
