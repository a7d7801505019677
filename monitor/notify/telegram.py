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
import functools
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from monitor.errors import ConfigError
from monitor.logs import protect, redact
from monitor.notify import DeadLetterHook, dead_letter_notice, register
from monitor.notify.telegram_api import call_accepted, chat_id, make_request, retry_after_seconds, watch_reply
from monitor.notify.telegram_filter import admission
from monitor.notify.telegram_format import format_alert, format_digest
from monitor.notify.telegram_options import TelegramOptions, load_token, parse_options
from monitor.notify.telegram_rate import RateLimiter, SharedRateLimiter
from monitor.records import Alert
from monitor.retry import backoff, retry_forever
from monitor.store import Store
from monitor.store.telegram import Delivery, TelegramStore

log = logging.getLogger(__name__)
PROBE_REUSE = 1.0  # seconds a getMe answer stands for other sends that failed meanwhile


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
        send = self.bot.send_message(
            chat_id=chat_id(chat),
            text=text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=not self.options.link_preview),
        )
        try:
            await call_accepted(send, f"telegram {self.name}: the message to chat {chat}", log)
        except Exception as exc:
            return await self._refused(delivery, ids, exc)
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
