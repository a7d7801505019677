"""Telegram's sending limits, kept by one rate limiter shared by the notifier's sends and the bot's replies."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from monitor.notify.telegram_options import RateLimits


def is_group(chat: str | int) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username for channels)."""
    text = str(chat)
    return text.startswith(("-", "@"))


class _Window:
    """At most `size` requests in any `span` seconds, paced by a token bucket holding `burst`.

    A request counts from its start until `span` after its answer: the server received it before
    the answer came, so the guarantee holds on the server's clock too. Pacing keeps requests from
    queueing behind each other, which would stretch that count.
    """

    def __init__(self, size: int, span: float, burst: int) -> None:
        self.size, self.span = size, span
        self.inflight = 0
        self.ended: deque[float] = deque()
        self.rate = size / span
        self.capacity = float(min(burst, size))
        self.tokens = self.capacity
        self.filled = 0.0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.filled) * self.rate)
        self.filled = now

    def wait(self, now: float) -> float:
        while self.ended and self.ended[0] + self.span <= now:
            self.ended.popleft()
        if self.inflight >= self.size:
            return _POLL
        excess = len(self.ended) + self.inflight + 1 - self.size
        full = 0.0 if excess <= 0 else self.ended[excess - 1] + self.span - now
        self._refill(now)
        return max(full, (1.0 - self.tokens) / self.rate)

    def start(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0
        self.inflight += 1

    def end(self, now: float) -> None:
        self.inflight -= 1
        self.ended.append(now)


_OVERALL_BURST = 3  # requests that may start together; more would queue and count longer
_EPSILON = 1e-6  # waits shorter than this are rounding noise
_POLL = 0.005  # how often a waiter looks again when only requests in flight hold it back


class RateLimiter:
    """Lets a message go out when Telegram's limits allow: overall per second, per chat, per group per minute.

    Use `async with limiter.slot(chat): <send>`; one message per chat is in flight at a time.
    """

    def __init__(
        self,
        limits: RateLimits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._overall = _Window(limits.per_second, 1.0 + limits.margin, burst=_OVERALL_BURST)
        self._groups: dict[str, _Window] = {}
        self._busy: set[str] = set()
        self._last: dict[str, float] = {}
        self._held: dict[str, float] = {}

    def _group(self, chat: str) -> _Window | None:
        if not is_group(chat):
            return None
        if chat not in self._groups:
            self._groups[chat] = _Window(
                self.limits.group_per_minute, 60.0 + self.limits.margin, burst=self.limits.group_per_minute
            )
        return self._groups[chat]

    def _wait(self, chat: str, now: float) -> float:
        waits = [self._held.get(chat, now) - now, self._overall.wait(now)]
        if chat in self._busy:
            waits.append(_POLL)
        elif chat in self._last:
            waits.append(self._last[chat] + self.limits.chat_interval + self.limits.margin - now)
        group = self._group(chat)
        if group is not None:
            waits.append(group.wait(now))
        return max(waits)

    def hold(self, chat: str | int, seconds: float) -> None:
        """Send nothing to `chat` for `seconds` from now (Telegram said RetryAfter)."""
        self._held[str(chat)] = self._clock() + seconds

    @contextlib.asynccontextmanager
    async def slot(self, chat: str | int) -> AsyncIterator[None]:
        key = str(chat)
        while (wait := self._wait(key, self._clock())) > _EPSILON:
            await self._sleep(wait)
        group = self._group(key)
        started = self._clock()
        for window in (self._overall, group):
            if window is not None:
                window.start(started)
        self._busy.add(key)
        try:
            yield
        finally:
            now = self._clock()
            for window in (self._overall, group):
                if window is not None:
                    window.end(now)
            self._busy.discard(key)
            self._last[key] = now
            if len(self._last) > 4096:
                self._forget(now)

    def _forget(self, now: float) -> None:
        stale = now - 60.0 - self.limits.chat_interval - self.limits.margin
        for chat in [c for c, t in self._last.items() if t < stale and c not in self._busy]:
            del self._last[chat]
            if chat in self._groups and not self._groups[chat].inflight:
                del self._groups[chat]
        for chat in [c for c, t in self._held.items() if t < now]:
            del self._held[chat]


_SENDING = ("send", "copyMessage", "forwardMessage")


class SharedRateLimiter(BaseRateLimiter[None]):
    """PTB's hook: every message-sending API call of a bot waits for the shared `RateLimiter`."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint.startswith(_SENDING) and "chat_id" in data:
            async with self.limiter.slot(data["chat_id"]):
                return await callback(*args, **kwargs)
        return await callback(*args, **kwargs)
