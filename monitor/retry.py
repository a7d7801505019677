"""Retry timing shared by the fetcher, the notifiers and the service: capped exponential backoff, `Retry-After`,
calling something again until it works, and restarting a task that dies."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

T = TypeVar("T")
RESTART_PAUSE = 1.0  # a task that died is restarted after this (doubling each time, at most a minute)
_log = logging.getLogger(__name__)


def backoff(
    attempt: int,
    retry_after: float | None = None,
    base: float = 5.0,
    cap: float = 900.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `attempt`-th failure in a row: exponential, jittered, capped.

    The delay lies in [d/2, d] with d = min(cap, base * 2**(attempt-1)), and is never shorter
    than the server's `Retry-After`.
    """
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 1) - 1, 64))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def retry_forever(
    attempt: Callable[[], Awaitable[T]],
    errors: type[Exception] | tuple[type[Exception], ...],
    failed: str,
    log: logging.Logger,
    base: float,
    cap: float,
) -> T:
    """What `attempt()` returns, calling it again after each of `errors` it raises, `backoff` seconds later
    (cancel to stop); each failure is logged as a warning: `failed`, the error and the delay."""
    failures = 0
    while True:
        try:
            return await attempt()
        except errors as exc:
            failures += 1
            delay = backoff(failures, None, base, cap)
            log.warning("%s (%s); retry in %.1fs", failed, exc, delay)
            await asyncio.sleep(delay)


async def supervise(name: str, job: Callable[[], Coroutine[Any, Any, None]], pause: float = RESTART_PAUSE) -> None:
    """Run `job()` until it returns or is cancelled; whenever it dies of an exception, log that and start it again."""
    for deaths in itertools.count(1):
        try:
            await job()
            return
        except Exception:
            delay = backoff(deaths, base=pause, cap=60.0)
            _log.exception("background task %s died; restarting it in %.1f s", name, delay)
            await asyncio.sleep(delay)
