"""The long-running process: scheduler + pipeline + outbox dispatcher in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from monitor.config import Settings, SourceConfig, load
from monitor.errors import ConfigError, MonitorError
from monitor.fetch import Fetcher, FetchSettings
from monitor.notify import NOTIFIER_KINDS, Notifier, dispatch_forever, drain
from monitor.notify.console import ConsoleNotifier
from monitor.pipeline import Pipeline, PollReport
from monitor.query import Matcher
from monitor.records import Alert
from monitor.store import Store
from monitor.store.sqlite import SqliteStore

log = logging.getLogger(__name__)


def fetch_settings(settings: Settings) -> FetchSettings:
    """The fetcher's settings from the `fetch:` section of the config."""
    cfg = settings.monitor.fetch
    return FetchSettings(
        user_agent=cfg.user_agent,
        max_connections=cfg.max_connections,
        per_host=cfg.per_host,
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
        total_timeout=cfg.total_timeout,
        max_bytes=cfg.max_bytes,
        max_redirects=cfg.max_redirects,
        backoff_base=cfg.backoff_base,
        backoff_cap=cfg.backoff_cap,
    )


def build_notifiers(settings: Settings, store: Store) -> list[Notifier]:
    """Every enabled notifier that can start; the console when none can (e.g. no bot token)."""
    notifiers: list[Notifier] = []
    for cfg in settings.monitor.notifiers:
        if not cfg.enabled:
            continue
        try:
            notifiers.append(NOTIFIER_KINDS[cfg.kind](cfg.name, cfg.options, store))
        except MonitorError as exc:
            log.warning("notifier %s (%s) is off: %s", cfg.name, cfg.kind, exc)
    if not notifiers:
        log.info("no notifier could start: alerts go to the console")
        notifiers.append(ConsoleNotifier("console"))
    return notifiers


async def poll_sources(
    pipeline: Pipeline,
    settings: Settings,
    sources: Sequence[SourceConfig],
    on_done: Callable[[PollReport], None] | None = None,
) -> list[PollReport]:
    """Poll the given sources once, concurrently; the fetcher's limits keep it polite."""

    async def one(source: SourceConfig) -> PollReport:
        report = await pipeline.poll(source, settings.source_interval(source))
        if on_done:
            on_done(report)
        return report

    return list(await asyncio.gather(*(one(s) for s in sources)))


@dataclass
class OnceResult:
    """What one pass over the sources did."""

    reports: list[PollReport]
    alerts: list[Alert]

    @property
    def failed(self) -> list[PollReport]:
        return [r for r in self.reports if r.error]

    @property
    def not_modified(self) -> int:
        return sum(r.not_modified for r in self.reports)


def select_sources(settings: Settings, names: Sequence[str]) -> list[SourceConfig]:
    """The named sources (enabled or not), or every enabled source when no name is given."""
    if not names:
        return settings.enabled_sources()
    known = {s.name: s for s in settings.monitor.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [known[n] for n in names]


async def run_once(
    settings: Settings,
    names: Sequence[str] = (),
    *,
    dry_run: bool = False,
    on_done: Callable[[PollReport], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> OnceResult:
    """One pass over the sources, then deliver what is owed. `dry_run` records and delivers nothing."""
    sources = select_sources(settings, names)
    disk = SqliteStore(settings.db_path)
    store = disk.snapshot() if dry_run else disk
    try:
        notifiers = [] if dry_run else build_notifiers(settings, store)
        async with Fetcher(fetch_settings(settings), transport=transport) as fetcher:
            matcher = Matcher(settings.watchlist_records())
            names_ = [n.name for n in notifiers] or ["console"]
            pipeline = Pipeline(store, fetcher, matcher, names_, settings.monitor.fetch)
            reports = await poll_sources(pipeline, settings, sources, on_done)
        for notifier in notifiers:
            await notifier.start()
            try:
                while await drain(store, notifier, limit=1000):
                    pass
            finally:
                await notifier.stop()
    finally:
        if store is not disk:
            store.close()
        disk.close()
    return OnceResult(reports, [a for r in reports for a in r.alerts])


@dataclass
class Health:
    """What the service knows about itself, for status displays."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_cycle: datetime | None = None
    polls: int = 0
    failures: int = 0


class Service:
    """Wires the stages together and runs until `stop()`."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.store: Store = SqliteStore(settings.db_path)
        self.health = Health()
        self._transport = transport
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._pipeline: Pipeline | None = None

    def stop(self) -> None:
        self._stop.set()

    async def _poll_job(self, source: SourceConfig, interval: float) -> None:
        assert self._pipeline is not None
        state = self.store.source_state(source.name)
        now = datetime.now(UTC)
        if state.error_count and state.next_due and state.next_due > now:
            log.debug("source %s backing off until %s", source.name, state.next_due)
            return
        try:
            report = await self._pipeline.poll(source, interval, now)
        except Exception:  # a bug in one poll must not kill the job or the service
            log.exception("poll of %s crashed", source.name)
            self.health.failures += 1
            return
        self.health.polls += 1
        self.health.last_cycle = datetime.now(UTC)
        if report.error:
            self.health.failures += 1
        if report.alerts:
            log.info("source %s: %d new alert(s)", source.name, len(report.alerts))
            self._wake.set()

    def reload(self) -> str:
        """Re-read the config; apply it if valid, keep the running one otherwise. Returns what happened."""
        try:
            settings = load(self.settings.path)
            matcher = Matcher(settings.watchlist_records())
        except MonitorError as exc:
            log.error("config reload rejected, keeping the running config:\n%s", exc)
            return f"rejected: {exc}"
        assert self._pipeline is not None
        self.settings = settings
        self._pipeline.matcher = matcher
        added, changed, removed = self._scheduler.reconcile(settings)
        return f"reloaded: {len(added)} sources added, {len(changed)} changed, {len(removed)} removed"

    async def run(self) -> None:
        """Run until stop() or SIGTERM/SIGINT; SIGHUP reloads the config."""
        from monitor.scheduler import Scheduler

        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self.stop), (signal.SIGINT, self.stop), (signal.SIGHUP, self.reload)):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: no signals
                loop.add_signal_handler(sig, handler)
        async with AsyncExitStack() as stack:
            fetcher = await stack.enter_async_context(Fetcher(fetch_settings(self.settings), transport=self._transport))
            notifiers = build_notifiers(self.settings, self.store)
            for notifier in notifiers:
                await notifier.start()
                stack.push_async_callback(notifier.stop)
            self._pipeline = Pipeline(
                self.store,
                fetcher,
                Matcher(self.settings.watchlist_records()),
                [n.name for n in notifiers],
                self.settings.monitor.fetch,
            )
            self._scheduler = Scheduler(self._poll_job)
            self._scheduler.start(self.settings)
            stack.callback(self._scheduler.shutdown)
            dispatcher = asyncio.create_task(dispatch_forever(self.store, notifiers, self._wake))
            log.info(
                "monitor running: %d sources, %d watch lists, notifiers: %s",
                len(self.settings.enabled_sources()),
                len(self.settings.watchlists),
                ", ".join(n.name for n in notifiers),
            )
            await self._stop.wait()
            log.info("stopping")
            dispatcher.cancel()
            await asyncio.gather(dispatcher, return_exceptions=True)
            for notifier in notifiers:  # hand over what is already owed before exit
                await asyncio.wait_for(drain(self.store, notifier), timeout=5)
        self.store.close()
