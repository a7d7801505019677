"""Retry timing shared by the fetcher and the notifiers: capped exponential backoff and `Retry-After`."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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
