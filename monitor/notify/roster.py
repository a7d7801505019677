"""Who an alert is owed to, and which of those notifiers run.

An alert is owed to every enabled notifier of the config, whether it can start or not: one that cannot
(no bot token, an unset `secret_env`, bad options) waits, and what it is owed stays in the outbox until
it starts; then it delivers all of it, oldest first. The service tries a waiting notifier again at every
config reload and every `RETRY_INTERVAL` seconds. While no configured notifier runs, the console prints
the alerts as well: an extra with its own owed copy, never instead of the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.config import NotifierConfig, Settings
from monitor.errors import MonitorError
from monitor.graceful import Graceful
from monitor.notify import NOTIFIER_KINDS, Notifier
from monitor.notify.console import ConsoleNotifier
from monitor.store import Store

log = logging.getLogger(__name__)

FALLBACK = "console"  # the notifier that prints alerts while no configured one runs
RETRY_INTERVAL = 60.0  # seconds between two tries of a notifier that cannot start (a reload tries at once)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A configured notifier that cannot start, and why."""

    kind: str
    reason: str
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


def configured(settings: Settings) -> list[NotifierConfig]:
    """The enabled notifiers of the config (the console when none is enabled): alerts are owed to each."""
    return [n for n in settings.monitor.notifiers if n.enabled] or [NotifierConfig(name=FALLBACK, kind="console")]


def build(cfg: NotifierConfig, store: Store) -> Notifier:
    """The notifier `cfg` describes; MonitorError when it cannot start: InvalidOptions for options its kind does not
    take, a ConfigError for a missing secret."""
    return NOTIFIER_KINDS[cfg.kind](cfg.name, cfg.options, store)


class Roster:
    """The configured notifiers: those running (wrapped in `Graceful`) and those waiting to start.

    `prepare(notifier)` is called with each notifier before it starts (the service hooks Telegram in).
    """

    def __init__(self, store: Store, settings: Settings, prepare: Callable[[Notifier], None] = lambda n: None) -> None:
        self.store = store
        self.prepare = prepare
        self.running: list[Graceful] = []  # grows as notifiers start; the dispatcher reads it every round
        self.waiting: dict[str, Waiting] = {}
        self._configured: list[NotifierConfig] = []
        self._fallback = False
        self._orphans: set[str] = set()  # notifiers owed alerts that the config no longer names, said once each
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        """Follow the config (at start, on reload): new alerts are owed to its notifiers; `start` tries them.

        A running notifier keeps the options it started with until the next start; one the config no longer
        names is owed no new alerts but delivers what it was owed.
        """
        self._configured = configured(settings)
        names = {c.name for c in self._configured}
        self.waiting = {name: w for name, w in self.waiting.items() if name in names}
        self._tell_orphans(names)

    def _tell_orphans(self, names: set[str]) -> None:
        """Say once of each notifier the config no longer names that it is still owed alerts: they are kept."""
        try:
            owed = self.store.owed_by_notifier()
        except self.store.faults:
            return  # the store's own fault is reported where it is used
        running = {n.name for n in self.running}
        for name, count in sorted(owed.items()):
            if name in names or name in running or name == FALLBACK or name in self._orphans:
                continue
            self._orphans.add(name)
            log.warning("%d alert(s) are owed to notifier %s, which the config no longer names: they are kept,"
                        " and delivered if it is configured again", count, name)
        self._orphans &= set(owed)

    def owed(self) -> list[str]:
        """The notifiers a new alert is owed to: every configured one, and the console while none of them runs."""
        names = [c.name for c in self._configured]
        return [*names, FALLBACK] if self._fallback else names

    async def start(self) -> int:
        """Start every configured notifier not running yet, or note why it cannot; return how many started."""
        running = {n.name for n in self.running}
        started = 0
        for cfg in self._configured:
            if cfg.name in running:
                continue
            try:
                notifier = build(cfg, self.store)
            except MonitorError as exc:
                self._wait(cfg, str(exc))
                continue
            await self._launch(notifier)
            started += 1
            if self.waiting.pop(cfg.name, None) is not None:
                log.info("notifier %s (%s) started: it delivers the %d alert(s) kept for it", cfg.name, cfg.kind,
                         self.store.outbox_depth(cfg.name))
        names = {c.name for c in self._configured}
        fallback = FALLBACK not in names and not any(n.name in names for n in self.running)
        if fallback and not self._fallback:
            log.info("no notifier could start: alerts go to the console as well, and are kept for the others")
        self._fallback = fallback
        # the console also prints what an earlier run owed it as the fallback, lest that stay owed for ever
        leftover = FALLBACK not in names and self.store.outbox_depth(FALLBACK) > 0
        if (self._fallback or leftover) and FALLBACK not in running:
            await self._launch(ConsoleNotifier(FALLBACK))
            started += 1
        return started

    def _wait(self, cfg: NotifierConfig, reason: str) -> None:
        known = self.waiting.get(cfg.name)
        if known is not None and known.reason == reason:
            return
        log.warning("notifier %s (%s) cannot start: %s; its alerts are kept for it until it can (a running service"
                    " tries again every %.0f s and on reload)", cfg.name, cfg.kind, reason, RETRY_INTERVAL)
        self.waiting[cfg.name] = Waiting(cfg.kind, reason)

    async def _launch(self, notifier: Notifier) -> None:
        self.prepare(notifier)
        wrapped = Graceful(notifier)
        await wrapped.start()
        self.running.append(wrapped)

    def up(self) -> dict[str, bool]:
        """Each notifier's state: True while it runs, False while it waits to start."""
        return {**{n.name: True for n in self.running}, **{name: False for name in self.waiting}}

    async def stop(self) -> None:
        """Stop the running notifiers, the last started first."""
        while self.running:
            notifier = self.running.pop()
            try:
                await notifier.stop()
            except Exception:  # one that fails to stop must not keep the others running
                log.exception("notifier %s did not stop cleanly", notifier.name)
