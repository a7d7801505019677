"""Adaptive polling: a source's next interval from how often it publishes and what its server hints.

Like Miniflux's entry-frequency scheduler: the gap between new items over a recent window (the busiest of
the last hour, day and week; a shorter window counts from two items on, so one post does not make a quiet
source look busy), bounded by the source's `interval_min` and `interval_max`. A server's hint
(`Cache-Control: max-age`, RSS `<ttl>`) may lengthen the interval up to `interval_max`, never shorten it below
`interval_min`. After a failure the source backs off instead (`monitor.retry.backoff`, which honours
`Retry-After`), never sooner than `interval_min`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.durations import spoken
from monitor.retry import backoff

WINDOWS = (3600.0, 86400.0, 7 * 86400.0)  # seconds of history counted, shortest first
_TTL = re.compile(rb"<ttl>\s*(\d{1,9})\s*</ttl>")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The shortest and longest interval of a source (equal: a fixed interval), and the one it starts with."""

    lo: float
    hi: float
    start: float

    @property
    def fixed(self) -> bool:
        return self.lo == self.hi

    def clamp(self, seconds: float) -> float:
        return min(self.hi, max(self.lo, seconds))


@dataclass(frozen=True, slots=True)
class Cadence:
    """The next interval of a source and why, as `monitor sources` shows it."""

    interval: float
    reason: str


def feed_ttl(content: bytes) -> float | None:
    """Seconds of an RSS channel's `<ttl>` (minutes in the document), read before its first item; None if absent."""
    found = _TTL.search(content, 0, max(content.find(b"<item"), 0) or len(content))
    return float(found[1]) * 60 if found else None


def after_success(bounds: Bounds, counts: tuple[int, ...], hints: dict[str, float]) -> Cadence:
    """The interval after a poll that worked: the publishing gap of the busiest window of `counts` (new items in
    each of WINDOWS), lengthened by the longest of `hints` (seconds by name), within `bounds`."""
    if bounds.fixed:
        return Cadence(bounds.lo, "fixed interval")
    gaps = [(window / count, f"{count} new in the last {spoken(window)}")
            for window, count in zip(WINDOWS, counts, strict=True) if count >= 2 or (count and window == WINDOWS[-1])]
    gap, why = min(gaps) if gaps else (WINDOWS[-1], f"nothing new in {spoken(WINDOWS[-1])}")
    hint = max(hints.items(), key=lambda item: item[1], default=None)
    if hint is not None and hint[1] > gap:
        gap, why = hint[1], f"{hint[0]} {spoken(hint[1])}"
    interval = bounds.clamp(gap)
    edge = " (interval_min)" if interval > gap else " (interval_max)" if interval < gap else ""
    return Cadence(interval, why + edge)


def after_failure(bounds: Bounds, errors: int, retry_after: float | None, base: float, cap: float) -> Cadence:
    """The wait after the `errors`-th failure in a row: the backoff from `base` to `cap`, at least `Retry-After`
    (bounded by the longer of `cap` and `interval_max`), never less than `interval_min`."""
    asked = None if retry_after is None else min(retry_after, max(cap, bounds.hi))
    wait = max(bounds.lo, backoff(errors, asked, base, cap))
    if asked is not None and wait == asked:
        return Cadence(wait, f"Retry-After {spoken(asked)}")
    return Cadence(wait, f"backing off after {errors} failure(s)")
