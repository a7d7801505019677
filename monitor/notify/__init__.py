"""Notifiers: each kind registered under the name the config uses; a dispatcher drains the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from monitor.errors import DeliveryError
from monitor.records import Alert
from monitor.registry import Registry
from monitor.retry import backoff
from monitor.store import Store

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """Delivers one alert. Raises DeliveryError; `permanent=True` means never retry this alert here."""

    name: str

    async def deliver(self, alert: Alert) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


NotifierFactory = Callable[[str, Mapping[str, Any], Store], Notifier]
NOTIFIER_KINDS: Registry[NotifierFactory] = Registry(
    "notifier",
    {"console": "monitor.notify.console", "telegram": "monitor.notify.telegram", "webhook": "monitor.notify.webhook"},
)


def register(kind: str) -> Callable[[NotifierFactory], NotifierFactory]:
    """Register a notifier factory `(name, options, store) -> Notifier` under its config kind."""

    def wrap(factory: NotifierFactory) -> NotifierFactory:
        NOTIFIER_KINDS[kind] = factory
        return factory

    return wrap


async def drain(store: Store, notifier: Notifier, *, limit: int = 100) -> int:
    """Deliver what is owed to one notifier now; return how many were delivered."""
    delivered = 0
    now = datetime.now(UTC)
    for alert in store.owed(notifier.name, now, limit):
        try:
            await notifier.deliver(alert)
        except DeliveryError as exc:
            if exc.permanent:
                log.error("alert %d to %s failed for good: %s", alert.id, notifier.name, exc)
                store.mark_failed(alert.id, notifier.name, str(exc))
            else:
                attempts = store.attempts(alert.id, notifier.name) + 1
                delay = backoff(attempts, exc.retry_after)
                log.warning("alert %d to %s failed (%s); retry in %.0fs", alert.id, notifier.name, exc, delay)
                store.mark_retry(alert.id, notifier.name, str(exc), now + timedelta(seconds=delay))
                break  # keep per-notifier order: later alerts wait for this one
        else:
            store.mark_delivered(alert.id, notifier.name)
            delivered += 1
    return delivered


async def dispatch_forever(store: Store, notifiers: list[Notifier], wake: asyncio.Event, idle: float = 5.0) -> None:
    """Drain every notifier whenever woken (new alerts) or every `idle` seconds, until cancelled."""
    while True:
        for notifier in notifiers:
            try:
                await drain(store, notifier)
            except Exception:  # a broken notifier must not stop the others
                log.exception("notifier %s crashed while draining", notifier.name)
        wake.clear()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the event is set, and the task would then never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(idle):
                await wake.wait()
