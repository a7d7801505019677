"""The `telegram` notifier: fans each alert out to subscribed chats, then sends within Telegram's limits.

`deliver(alert)` only records one delivery per chat (one transaction); a sender task started by
`start()` drains those deliveries, oldest alert first per chat, through a rate limiter shared with
the bot's replies. A delivery stays owed until Telegram accepted it, so restarts and outages lose
nothing.

Accepted means an HTTP 2xx, even when the reply cannot be read (a self-hosted or other-version Bot
API server): sending it again would duplicate it. A failed send is followed by getMe: when the Bot
API does not answer that either, it is an outage (every chat pauses, nothing counts against the
delivery); when it does, the failure is the delivery's own, only its chat waits for the retry, and
after `max_attempts` such failures the delivery is a dead letter and the chat's queue moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from monitor.errors import ConfigError
from monitor.logs import protect, redact
from monitor.notify import DEFAULT_MAX_ATTEMPTS, DeadLetterHook, dead_letter_notice, register
from monitor.notify.telegram_filter import admission
from monitor.notify.telegram_format import format_alert, format_digest
from monitor.records import Alert
from monitor.retry import backoff, retry_forever
from monitor.store import Store
from monitor.store.telegram import Delivery, TelegramStore

log = logging.getLogger(__name__)

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
TOKEN_FILE_ENV = "TELEGRAM_BOT_TOKEN_FILE"


# --- options and token -------------------------------------------------------------------------


class RateLimits(BaseModel):
    """Telegram's sending limits (defaults: the documented ones); `margin` seconds of safety per window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: int = Field(30, ge=1)  # messages per second, all chats together
    chat_interval: float = Field(1.0, ge=0)  # seconds between two messages to one chat
    group_per_minute: int = Field(20, ge=1)  # messages per minute to one group or channel
    margin: float = Field(0.0, ge=0)


class ChannelTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chat: str  # '@channelname' or a numeric chat id
    watchlists: list[str] = Field(min_length=1)

    @field_validator("chat", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value)


class TelegramOptions(BaseModel):
    """The options of a `telegram` notifier in config/monitor.yaml (the token is never one of them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = Field(default_factory=list)
    channels: list[ChannelTarget] = Field(default_factory=list)
    timezone: str = "UTC"
    link_preview: bool = False
    rate: RateLimits = Field(default_factory=RateLimits)
    timeout: float = Field(10.0, gt=0)  # seconds for one API request
    concurrency: int = Field(32, ge=1)  # requests in flight at once
    backoff_base: float = Field(2.0, gt=0)
    backoff_cap: float = Field(300.0, gt=0)
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)  # failed sends (outages aside) before a dead letter
    poll_timeout: float = Field(10.0, ge=0)  # long-polling timeout of getUpdates

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_options(name: str, options: Mapping[str, Any]) -> TelegramOptions:
    if "token" in options:
        raise ConfigError(f"notifier {name}: the bot token comes from ${TOKEN_ENV}, never from a config file")
    try:
        return TelegramOptions.model_validate(dict(options))
    except ValidationError as exc:
        raise ConfigError(f"notifier {name}: {exc}") from exc


def load_token(env: Mapping[str, str] = os.environ) -> str:
    """The bot token from $TELEGRAM_BOT_TOKEN, else from the file named by $TELEGRAM_BOT_TOKEN_FILE."""
    token = env.get(TOKEN_ENV, "").strip()
    if not token and env.get(TOKEN_FILE_ENV):
        try:
            token = Path(env[TOKEN_FILE_ENV]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read ${TOKEN_FILE_ENV}: {exc.strerror}") from exc
    if not token:
        raise ConfigError(f"no bot token: set ${TOKEN_ENV} or ${TOKEN_FILE_ENV}")
    return token


# --- rate limiting -----------------------------------------------------------------------------


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
PROBE_REUSE = 1.0  # seconds a getMe answer stands for other sends that failed meanwhile


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


@dataclass
class Reply:
    """The HTTP status the Bot API answered a call with (None: no answer came)."""

    status: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


_REPLY: contextvars.ContextVar[Reply | None] = contextvars.ContextVar("telegram_reply", default=None)


@contextlib.contextmanager
def watch_reply() -> Iterator[Reply]:
    """Record the HTTP status of the Bot API calls made in this context (in this task) on the `Reply` yielded."""
    reply = Reply()
    token = _REPLY.set(reply)
    try:
        yield reply
    finally:
        _REPLY.reset(token)


async def _note_status(response: httpx.Response) -> None:
    """httpx response hook: runs once the status line is in, before the body is read (or fails to be)."""
    if (reply := _REPLY.get()) is not None:
        reply.status = response.status_code


def make_request(options: TelegramOptions, read_timeout: float | None = None) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=max(8, options.concurrency * 2),
        read_timeout=read_timeout or options.timeout,
        write_timeout=options.timeout,
        connect_timeout=options.timeout,
        pool_timeout=options.timeout,
        httpx_kwargs={"event_hooks": {"response": [_note_status]}},
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_id(chat: str) -> int | str:
    """The Bot API's chat_id: a number, or an '@channelname'."""
    return chat if chat.startswith("@") else int(chat)


# --- the notifier ------------------------------------------------------------------------------


class TelegramNotifier:
    """Fans alerts out to chats (`deliver`) and sends what is owed (a task between `start` and `stop`)."""

    def __init__(
        self,
        name: str,
        options: TelegramOptions,
        store: TelegramStore,
        token: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        protect(token)
        self.name = name
        self.options = options
        self.max_attempts = options.max_attempts
        self.store = store
        self.token = token
        self.limiter = RateLimiter(options.rate)
        self.bot: ExtBot[None] = ExtBot(
            token,
            base_url=options.base_url,
            request=make_request(options),
            rate_limiter=SharedRateLimiter(self.limiter),
        )
        self._clock = clock
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._busy: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.on_send: Callable[[str], None] = lambda outcome: None  # "ok", "flood", "retry" or "failed" (metrics)
        self.on_dead_letter: DeadLetterHook = lambda notice: None  # the service tells the admins
        self._failures = 0  # failed sends in a row during an outage, over all chats: it pauses all sending
        self._paused_until = 0.0  # time.monotonic()
        self._probe: asyncio.Task[bool] | None = None  # the getMe shared by sends that failed together
        self._probed = 0.0  # time.monotonic() the probe started

    async def deliver(self, alert: Alert) -> None:
        """Owe the alert to every subscribed chat whose filter admits it (one transaction); the sender task
        does the rest."""
        count = self.store.fan_out(self.name, alert, self._clock(), admission(self.store, alert))
        log.debug("alert %d owed to %d chat(s) via %s", alert.id, count, self.name)
        self._wake.set()

    async def start(self) -> None:
        targets = [(c.chat, c.watchlists) for c in self.options.channels]
        self.store.sync_channels(targets, self._clock())
        self._task = asyncio.create_task(self._run(), name=f"telegram-sender-{self.name}")

    async def stop(self) -> None:
        """Stop dispatching, let sends in flight finish (up to one request timeout), then shut down."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=self.options.timeout)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._probe is not None:  # the sends waiting for it are gone
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        try:  # closing the HTTP client must not hold up a stop
            async with asyncio.timeout(self.options.timeout):
                await self.bot.shutdown()
        except TimeoutError:
            log.warning("telegram %s: Bot API client did not close within %.0fs", self.name, self.options.timeout)

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        await retry_forever(self.bot.initialize, TelegramError, f"telegram {self.name}: cannot reach the Bot API", log,
                            self.options.backoff_base, self.options.backoff_cap)
        while True:
            self._wake.clear()
            self._dispatch()
            await self._idle()

    def _dispatch(self) -> None:
        """Start sending the due head of each idle chat's queue, up to the concurrency limit."""
        room = self.options.concurrency - len(self._inflight)
        if room <= 0 or time.monotonic() < self._paused_until:
            return
        for delivery in self.store.due_deliveries(self.name, self._clock(), limit=room + len(self._busy)):
            if delivery.chat in self._busy:
                continue
            self._busy.add(delivery.chat)
            task = asyncio.create_task(self._send(delivery))
            self._inflight.add(task)
            task.add_done_callback(functools.partial(self._done, chat=delivery.chat))
            room -= 1
            if room == 0:
                break

    def _done(self, task: asyncio.Task[None], chat: str) -> None:
        self._inflight.discard(task)
        self._busy.discard(chat)
        if len(self._inflight) <= self.options.concurrency // 2:
            self._wake.set()

    async def _idle(self) -> None:
        """Sleep until woken (new alerts, sends finished) or the next delivery falls due."""
        due = self.store.next_due(self.name)
        now = self._clock()
        timeout: float | None = 60.0
        if (pause := self._paused_until - time.monotonic()) > 0:
            timeout = pause
        elif due is not None:
            # due already: what is due waits for a chat or a slot that is busy; a finished send wakes us
            timeout = (due - now).total_seconds() if due > now else (None if self._inflight else 0.0)
        if timeout != 0.0 and not self._wake.is_set():
            with contextlib.suppress(TimeoutError):  # not wait_for: it can swallow a cancel (Python 3.11)
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _send(self, delivery: Delivery) -> None:
        try:
            await self._attempt(delivery)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one delivery kill the sender; it stays owed, for max_attempts tries
            log.exception("telegram %s: delivery %d to chat %s crashed", self.name, delivery.id, delivery.chat)
            self._retry(delivery, [delivery.id], f"crashed: {type(exc).__name__}: {exc}", outage=False)

    def _message(self, delivery: Delivery) -> tuple[str, list[int]]:
        """The text to send for the head delivery of a chat, and the deliveries it covers."""
        if delivery.digest == "off":
            return format_alert(self.store.alert(delivery.alert_id), self.options.zone), [delivery.id]
        batch = self.store.digest_batch(self.name, delivery.chat, self._clock())
        text, used = format_digest([self.store.alert(d.alert_id) for d in batch], self.options.zone)
        return text, [d.id for d in batch[:used]]

    async def _attempt(self, delivery: Delivery) -> None:
        text, ids = self._message(delivery)
        chat = delivery.chat
        try:
            with watch_reply() as reply:
                await self.bot.send_message(
                    chat_id=chat_id(chat),
                    text=text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=not self.options.link_preview),
                )
        except Exception as exc:
            if not reply.accepted:
                return await self._refused(delivery, ids, exc)
            log.warning("telegram %s: the Bot API accepted the message to chat %s (HTTP %s) but its answer could"
                        " not be read (%s: %s); counted as delivered", self.name, chat, reply.status,
                        type(exc).__name__, exc)
        self._failures = 0
        self.store.mark_sent(ids, self._clock())
        self.on_send("ok")

    async def _refused(self, delivery: Delivery, ids: list[int], exc: Exception) -> None:
        """Act on a send the Bot API did not accept; an exception that is not the Bot API's propagates."""
        chat = delivery.chat
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            self.limiter.hold(chat, seconds)
            self.on_send("flood")
            log.warning("telegram %s: chat %s flood-limited; retry in %.0fs", self.name, chat, seconds)
            self.store.retry_delivery(delivery.id, str(exc), self._clock() + timedelta(seconds=seconds), strike=False)
        elif isinstance(exc, ChatMigrated):
            log.info("telegram %s: chat %s migrated to %s", self.name, chat, exc.new_chat_id)
            self.store.migrate_chat(chat, str(exc.new_chat_id))
        elif isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()):
            self._deactivate(chat, str(exc))
        elif isinstance(exc, BadRequest):
            self._dead_letter(delivery, ids, f"refused: {exc}")
        elif isinstance(exc, TelegramError):  # timeouts, network errors, 5xx: an outage, or this delivery's own
            self._retry(delivery, ids, str(exc), outage=not await self._bot_api_up())
        else:
            raise exc

    def _retry(self, delivery: Delivery, ids: list[int], error: str, *, outage: bool) -> None:
        """A failed attempt: retry later (an outage pauses every chat), or give up after max_attempts strikes."""
        strikes = delivery.strikes + (0 if outage else 1)
        if strikes >= self.options.max_attempts:
            return self._dead_letter(delivery, ids, f"given up after {delivery.attempts + 1} attempts: {error}")
        self._failures = self._failures + 1 if outage else 0
        attempts = max(delivery.attempts + 1, self._failures)
        delay = backoff(attempts, None, self.options.backoff_base, self.options.backoff_cap)
        if outage:
            self._paused_until = max(self._paused_until, time.monotonic() + delay)
        self.on_send("retry")
        log.warning("telegram %s: send to chat %s failed (%s)%s; retry in %.1fs", self.name, delivery.chat, error,
                    ", the Bot API is unreachable" if outage else "", delay)
        self.store.retry_delivery(delivery.id, error, self._clock() + timedelta(seconds=delay), strike=not outage)

    def _dead_letter(self, delivery: Delivery, ids: list[int], why: str) -> None:
        """Give up on the message (every delivery it covers) and tell the admins; the chat's queue moves on."""
        self.on_send("failed")
        log.error("telegram %s: alert %d to chat %s %s", self.name, delivery.alert_id, delivery.chat, why,
                  extra={"alert": delivery.alert_id})
        now = self._clock()
        for delivery_id in ids:
            self.store.fail_delivery(delivery_id, why, now)
        alert = self.store.alert(delivery.alert_id)
        self.on_dead_letter(redact(dead_letter_notice(self.name, alert, why, delivery.chat)))

    async def _bot_api_up(self) -> bool:
        """Whether the Bot API answers getMe with a 2xx; sends failing within PROBE_REUSE s share one probe."""
        if self._probe is None or (self._probe.done() and time.monotonic() - self._probed > PROBE_REUSE):
            self._probed = time.monotonic()
            self._probe = asyncio.create_task(self._get_me())
        return await asyncio.shield(self._probe)

    async def _get_me(self) -> bool:
        with watch_reply() as reply, contextlib.suppress(Exception):
            await self.bot.get_me()
        return reply.accepted

    def _deactivate(self, chat: str, reason: str) -> None:
        dropped = self.store.deactivate_chat(chat, reason)
        log.warning("telegram %s: chat %s is gone (%s); %d owed alert(s) dropped", self.name, chat, reason, dropped)


def telegram_store(store: Store) -> TelegramStore:
    if not isinstance(store, TelegramStore):
        raise ConfigError(f"the store {type(store).__name__} keeps no Telegram subscribers")
    return store


@register("telegram")
def telegram(name: str, options: Mapping[str, Any], store: Store) -> TelegramNotifier:
    return TelegramNotifier(name, parse_options(name, options), telegram_store(store), load_token())
