"""monitor.retry.retry_forever: the one loop that calls something again, with backoff, until it works."""

from __future__ import annotations

import logging

import pytest

from monitor.retry import retry_forever

log = logging.getLogger("monitor.test.retry")


async def test_an_attempt_is_retried_with_a_warning_until_it_works(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionError(f"down {len(calls)}")
        return "up"

    caplog.set_level(logging.WARNING, logger=log.name)
    assert await retry_forever(attempt, ConnectionError, "thing: cannot reach it", log, 0.001, 0.002) == "up"
    assert len(calls) == 3
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "thing: cannot reach it (down 1)", "thing: cannot reach it (down 2)"
    ]


async def test_an_error_not_named_is_not_retried() -> None:
    async def attempt() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await retry_forever(attempt, ConnectionError, "thing", log, 0.001, 0.002)
