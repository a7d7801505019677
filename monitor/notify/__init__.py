"""Notifiers: each kind registered under the name the config uses; a dispatcher drains the outbox.

A notifier's alerts go out in order: one that fails holds the later ones until its retry. Failed
attempts count towards the notifier's `max_attempts` unless the receiver could not be reached or said
it is unavailable (`DeliveryError.outage`: an outage of any length dead-letters nothing). An alert out
of attempts, or refused for good, is a dead letter: no longer owed, logged, counted (`dead_letters`),
and announced through `on_dead_letter`; the queue moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from monitor.errors import ConfigError, DeliveryError
from monitor.records import Alert
from monitor.registry import Registry
from monitor.retry import backoff
from monitor.store import Store

if TYPE_CHECKING:
    from pydantic import ValidationError

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8  # failed attempts (outages aside) before a delivery is given up on
RECENT_DEAD_LETTERS = timedelta(hours=24)  # /healthz and the metrics count the dead letters of this window

DeadLetterHook = Callable[[str], None]  # told one line per dead letter (the service tells the admins)


class Notifier(Protocol):
    """Delivers one alert. Raises DeliveryError; `permanent=True` means never retry this alert here.

    A notifier may have a `max_attempts` attribute (its option); otherwise DEFAULT_MAX_ATTEMPTS applies.
    """

    name: str

    async def deliver(self, alert: Alert) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


NotifierFactory = Callable[[str, Mapping[str, Any], Store], Notifier]
NOTIFIER_KINDS: Registry[NotifierFactory] = Registry(
    "notifier",
    {"console": "monitor.notify.console", "telegram": "monitor.notify.telegram", "webhook": "monitor.notify.webhook"},
)


class InvalidOptions(ConfigError):
    """A notifier's options do not fit its kind's model (`error` says how): a mistake in the config, where a
    missing secret is a plain ConfigError that the environment can fix while the notifier waits."""

    def __init__(self, name: str, error: ValidationError) -> None:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        super().__init__(f"notifier {name}: invalid options: {problems}")
        self.error = error

    def located(self, *prefix: str | int) -> ValidationError:
        """The same problems with each key after `prefix` (`"notifiers", 0`: where the config has the options)."""
        from pydantic import ValidationError
        from pydantic_core import InitErrorDetails

        return ValidationError.from_exception_data(self.error.title, [
            InitErrorDetails(type=e["type"], loc=(*prefix, *e["loc"]), input=e["input"], ctx=e.get("ctx", {}))
            for e in self.error.errors()
        ])


def register(kind: str) -> Callable[[NotifierFactory], NotifierFactory]:
    """Register a notifier factory `(name, options, store) -> Notifier` under its config kind."""

    def wrap(factory: NotifierFactory) -> NotifierFactory:
        NOTIFIER_KINDS[kind] = factory
        return factory

    return wrap


def max_attempts_of(notifier: Notifier) -> int:
    """The notifier's `max_attempts`, or DEFAULT_MAX_ATTEMPTS when it has none."""
    return int(getattr(notifier, "max_attempts", DEFAULT_MAX_ATTEMPTS))


def dead_letter_notice(notifier: str, alert: Alert, why: str, chat: str | None = None) -> str:
    """The one line admins get about a dead letter."""
    where = f" to chat {chat}" if chat is not None else ""
    return f"dead letter: alert {alert.id} “{alert.title[:200]}” via {notifier}{where} {why}"


async def drain(
    store: Store, notifier: Notifier, *, limit: int = 100, on_dead_letter: DeadLetterHook | None = None
) -> int:
    """Deliver what is owed to one notifier now; return how many were delivered."""
    delivered = 0
    now = datetime.now(UTC)
    for alert in store.owed(notifier.name, now, limit):
        try:
            await notifier.deliver(alert)
        except DeliveryError as exc:
            attempts = store.attempts(alert.id, notifier.name) + 1
            strikes = store.strikes(alert.id, notifier.name) + (0 if exc.outage else 1)
            if exc.permanent or strikes >= max_attempts_of(notifier):
                why = f"refused: {exc}" if exc.permanent else f"given up after {attempts} attempts: {exc}"
                log.error("alert %d to %s %s", alert.id, notifier.name, why, extra={"alert": alert.id})
                store.mark_failed(alert.id, notifier.name, str(exc))
                if on_dead_letter is not None:
                    on_dead_letter(dead_letter_notice(notifier.name, alert, why))
                continue
            delay = backoff(attempts, exc.retry_after)
            log.warning("alert %d to %s failed (%s); retry in %.0fs", alert.id, notifier.name, exc, delay)
            store.mark_retry(alert.id, notifier.name, str(exc), now + timedelta(seconds=delay), strike=not exc.outage)
            break  # keep per-notifier order: later alerts wait for this one (at most max_attempts tries)
        else:
            store.mark_delivered(alert.id, notifier.name)
            delivered += 1
    return delivered


async def dispatch_forever(
    store: Store,
    notifiers: Sequence[Notifier],
    wake: asyncio.Event,
    idle: float = 5.0,
    on_dead_letter: DeadLetterHook | None = None,
) -> None:
    """Drain every notifier whenever woken (new alerts) or every `idle` seconds, until cancelled.

    `notifiers` is read anew every round: a notifier added to it (one that could start at last) is drained too.
    """
    while True:
        for notifier in notifiers:
            try:
                await drain(store, notifier, on_dead_letter=on_dead_letter)
            except Exception:  # a broken notifier must not stop the others
                log.exception("notifier %s crashed while draining", notifier.name)
        wake.clear()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the event is set, and the task would then never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(idle):
                await wake.wait()
