"""Stopping the outbox dispatcher between two deliveries, never inside one.

Cancelling a delivery after the notifier sent it but before the outbox marked it would send it again
after the restart. `Graceful` wraps a notifier so a shutdown waits for the delivery in flight (and
its mark), then ends the dispatcher at its next delivery or while it sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from monitor.notify import DeadLetterHook, Notifier, drain, max_attempts_of
from monitor.records import Alert
from monitor.store import Store

log = logging.getLogger(__name__)


class Graceful:
    """A notifier that refuses to start a delivery once `closing` is set (it raises CancelledError then)."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_attempts = max_attempts_of(inner)
        self.closing = False
        self.busy = False

    async def deliver(self, alert: Alert) -> None:
        if self.closing:
            raise asyncio.CancelledError  # ends the dispatcher here, after the previous delivery was marked
        self.busy = True
        try:
            await self.inner.deliver(alert)
        finally:
            self.busy = False

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()


async def stop_dispatcher(task: asyncio.Task[None], notifiers: Sequence[Graceful], patience: float = 8.0) -> None:
    """End the dispatcher `task` without cutting a delivery short (unless one hangs beyond `patience` s)."""
    for notifier in notifiers:
        notifier.closing = True
    deadline = asyncio.get_running_loop().time() + patience
    while not task.done():
        if not any(n.busy for n in notifiers) or asyncio.get_running_loop().time() > deadline:
            task.cancel()  # idle between deliveries: nothing in flight is lost
        await asyncio.wait([task], timeout=0.05)
    await asyncio.gather(task, return_exceptions=True)


async def drain_before_exit(
    store: Store, notifiers: Sequence[Graceful], budget: float = 5.0, on_dead_letter: DeadLetterHook | None = None
) -> int:
    """Deliver what is owed, one alert at a time, until nothing is due or `budget` seconds have passed.

    A store that fails here (a full disk, a damaged file) ends the hand-over with one logged line: what is
    owed stays owed in the store, for the next start."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    delivered = 0
    try:
        for notifier in notifiers:
            notifier.closing = False
            while loop.time() < deadline and await drain(store, notifier, limit=1, on_dead_letter=on_dead_letter):
                delivered += 1
    except Exception as exc:  # any store fault: nothing more can be handed over
        log.error("could not deliver the owed alerts before exit (they stay owed): %s: %s", type(exc).__name__, exc)
    if delivered:
        log.info("delivered %d owed alert(s) before exit", delivered)
    return delivered
