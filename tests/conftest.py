"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import LoopbackServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes tens of seconds (creates a virtualenv, say); -m 'not slow' leaves it out"
    )


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A real HTTP server on 127.0.0.1 (ephemeral port), stopped after the test; add routes to it."""
    with LoopbackServer() as server:
        yield server
