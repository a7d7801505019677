"""The long-running process: scheduler + pipeline + outbox dispatcher in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from monitor import status
from monitor.cadence import Bounds
from monitor.config import Settings, SourceConfig, load
from monitor.errors import MonitorError
from monitor.fetch import Fetcher
from monitor.graceful import drain_before_exit, stop_dispatcher
from monitor.health import HealthServer, Liveness, SourceFailure, SourceHealth, assess, serves_status_page
from monitor.metrics import Metrics
from monitor.notify import RECENT_DEAD_LETTERS, Notifier, dispatch_forever
from monitor.notify.roster import RETRY_INTERVAL, Roster
from monitor.once import build_workers
from monitor.pipeline import Pipeline, describe
from monitor.query import Matcher
from monitor.records import PollReport
from monitor.reload import ConfigWatch
from monitor.retry import supervise
from monitor.sourcehealth import EVERYTHING, WEEK, Change, Observation, SourceWatch, Thresholds
from monitor.store import Store, open_store
from monitor.store.lock import DatabaseLock
from monitor.store.retention import prune_forever
from monitor.workers import worker_count

log = logging.getLogger(__name__)

RECHECK_TICK = 60.0  # seconds between two looks for pages due for a re-check (at most page_recheck.every)
MAX_TOLD = 20  # source-health changes told in one admin message (the rest: see /healthz)


def health_thresholds(settings: Settings) -> Thresholds:
    """The config's `source_health:` as the policy's thresholds."""
    c = settings.monitor.source_health
    return Thresholds(c.silent_factor, c.silent_min, c.failing_after, c.empty_listings, c.short_bodies, c.short_ratio)


@dataclass
class Health:
    """What the service knows about itself, for status displays."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_cycle: datetime | None = None
    last_job: datetime | None = None  # the scheduler last ran a poll job (even one that found it backing off)
    polls: int = 0
    failures: int = 0


class Service:
    """Wires the stages together and runs until `stop()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._config_watch = ConfigWatch(settings.root, lambda: self.reload(), settings.monitor.reload.interval)
        self.store: Store = open_store(settings)
        self.health = Health()
        self.metrics = Metrics()
        self.health_server: HealthServer | None = None
        self.admin_notices: list[Callable[[str], None]] = []  # told about disabled sources and rejected reloads
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._pipeline: Pipeline | None = None
        self.roster = Roster(self.store, settings, self._prepare)
        self.notifier_retry = RETRY_INTERVAL  # seconds between tries of the notifiers that cannot start
        self._retry = asyncio.Event()  # set: try them now (a reload)
        self._bot: asyncio.Task[None] | None = None
        self.runs_bot = True  # the first telegram notifier's bot runs here (a `monitor worker` runs none)
        self._sources = SourceHealth()
        self._concern: str | None = None  # why every source fails, as last logged
        self._store_fault: str | None = None  # the store's error since which no poll could record anything
        self._watch = SourceWatch(health_thresholds(settings), self.store.health_states())

    def stop(self) -> None:
        self._stop.set()

    async def _poll_job(self, source: SourceConfig, bounds: Bounds, *, due_only: bool = False) -> float | None:
        """Poll one source, unless it is backing off (or, `due_only`, not due: another process polled it since
        the job was made); return the seconds until its next poll (None: unchanged)."""
        assert self._pipeline is not None
        now = self.health.last_job = datetime.now(UTC)
        began = time.monotonic()
        try:
            start = await self._pipeline.start(source.name, now)
            state = start.state
            if (state.error_count or due_only) and state.next_due and state.next_due > now:
                log.debug("source %s not due until %s", source.name, state.next_due)
                return None
            report = await self._pipeline.poll(source, bounds, now, start)
        except asyncio.CancelledError:  # the service is stopping: the poll is redone after the restart
            log.info("poll of %s cut short by shutdown", source.name, extra={"source": source.name})
            return None
        except Exception as exc:  # a failing store, or a bug: it must not kill the job or the service
            report = self._crashed(source, exc)
        else:
            self._store_works()
        self.metrics.observe_poll(report, time.monotonic() - began)
        self.health.polls += 1
        self.health.last_cycle = datetime.now(UTC)
        self._sources.observe(source.name, SourceFailure(report.error, report.unreachable) if report.error else None)
        self._judge_sources()
        self._observe(source, report, now)
        if report.error:
            self.health.failures += 1
            if report.status == 410:
                self._tell_admins(f"source {source.name} disabled: {report.error} (edit its config entry to resume)")
        if report.alerts:
            log.info("source %s: %d new alert(s)", source.name, len(report.alerts))
            self._wake.set()
        return report.next_poll

    def _crashed(self, source: SourceConfig, exc: Exception) -> PollReport:
        """A poll that raised: the store failed (said once, until a poll records again), or a bug (logged)."""
        where = {"source": source.name}
        if isinstance(exc, self.store.faults):
            if self._store_fault is None:
                log.error("the database fails, no poll can record anything: %s", describe(exc), exc_info=exc,
                          extra=where)
            self._store_fault = describe(exc)
        else:
            log.exception("poll of %s crashed", source.name, extra=where)
        return PollReport(source.name, error=describe(exc), error_type=type(exc).__name__, crashed=True)

    def _store_works(self) -> None:
        if self._store_fault is not None:
            log.info("the database works again (a poll was recorded)")
            self._store_fault = None

    def _judge_sources(self) -> None:
        """Log when every source starts failing, saying why, and when one works again: once, not per poll."""
        concern = self._sources.concern()
        if concern != self._concern:
            if concern:
                log.error("%s", concern)
            else:
                log.info("a source works again (%d of %d failing)", self._sources.failing, len(self._enabled()))
            self._concern = concern

    def _observe(self, source: SourceConfig, report: PollReport, now: datetime) -> None:
        """Tell source health what a poll did (with the week's new items when it brought some) and keep that."""
        if not self.settings.monitor.source_health.enabled:
            return
        with contextlib.suppress(*self.store.faults):
            week = self.store.new_items(source.name, [now - WEEK])[0] if report.new and not report.error else None
            error = None if report.listing_empty else report.error
            self._watch.observe(Observation(source.name, now, error, report.listing_empty, tuple(report.bodies),
                                            report.new, week))
            self._keep_health()

    def _keep_health(self) -> None:
        for key, state in self._watch.dirty().items():
            self.store.save_health_state(key, state)

    def review_sources(self, now: datetime | None = None) -> list[Change]:
        """Open and clear the sources' problems (`monitor.sourcehealth`): each change is logged (a problem at
        WARNING) and all of them told to the admins in one message; what is learnt is kept in the store."""
        if not self.settings.monitor.source_health.enabled:
            return []
        gone: set[str] = set()  # sources disabled by HTTP 410 (the admins were told then) are not watched
        with contextlib.suppress(*self.store.faults):
            gone = {s.name for s in self.store.source_states() if s.disabled}
        watched = [name for name in self._enabled() if name not in gone]
        changes = self._watch.review(now or datetime.now(UTC), watched, self._sources.concern())
        for change in changes:
            if change.problem.kind != EVERYTHING:  # _judge_sources logs that one as it happens
                level = logging.INFO if change.cleared else logging.WARNING
                log.log(level, "%s", change.text, extra={"source": change.problem.source})
        if changes:
            lines = [f"{'cleared' if c.cleared else 'PROBLEM'}: {c.text}" for c in changes]
            more = f"\n... and {len(lines) - MAX_TOLD} more: see /healthz" if len(lines) > MAX_TOLD else ""
            self._tell_admins("source health:\n" + "\n".join(lines[:MAX_TOLD]) + more)
        with contextlib.suppress(*self.store.faults):
            self._keep_health()
        return changes

    async def _review_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.monitor.source_health.check_every)
            self.review_sources()

    async def _recheck_forever(self) -> None:
        """Re-check the pages of alerted articles for edits (`Pipeline.recheck_due`) as `page_recheck:` says."""
        assert self._pipeline is not None
        while True:
            recheck = self.settings.monitor.page_recheck
            await asyncio.sleep(min(recheck.every, RECHECK_TICK))
            if not recheck.enabled:
                continue
            reports = await self._pipeline.recheck_due(
                self.settings.enabled_sources(), recheck.every, recheck.during, recheck.max_pages
            )
            for report in reports:
                self.metrics.observe_recheck(report)
            if any(r.alerts for r in reports):
                self._wake.set()

    def _enabled(self) -> list[str]:
        return [s.name for s in self.settings.enabled_sources()]

    def reload(self) -> str:
        """Re-read the config; apply it if valid, keep the running one otherwise. Returns what happened."""
        try:
            settings = load(self.settings.path)
            matcher = Matcher(settings.watchlist_records())
        except MonitorError as exc:
            self.metrics.reloads.labels("rejected").inc()
            log.error("config reload rejected, keeping the running config:\n%s", exc)
            self._tell_admins(f"config reload rejected, the running config stays:\n{exc}")
            return f"rejected: {exc}"
        assert self._pipeline is not None
        self.settings = settings
        self.roster.configure(settings)
        self._retry.set()
        self._pipeline.workers.reconfigure(matcher, worker_count(settings.monitor.workers))
        added, changed, removed = self._reconcile(settings)
        self._sources.configure(self._enabled())
        self._watch.thresholds = health_thresholds(settings)
        self._resume(changed)
        self.metrics.reloads.labels("ok").inc()
        outcome = f"reloaded: {len(added)} sources added, {len(changed)} changed, {len(removed)} removed"
        log.info("config %s", outcome)
        return outcome

    def _tell_admins(self, text: str) -> None:
        for notice in self.admin_notices:
            try:
                notice(text)
            except Exception:  # telling admins must never break polling or reloading
                log.exception("admin notice failed")

    def _resume(self, names: Sequence[str]) -> None:
        """Sources whose config changed are polled again at once, even if backing off or disabled (410)."""
        for name in names:
            state = self.store.source_state(name)
            if state.error_count:
                self.store.save_source_state(replace(state, error_count=0, next_due=None))

    def _reconcile(self, settings: Settings) -> tuple[list[str], list[str], list[str]]:
        """Follow the sources of reloaded settings; (added, changed, removed) names."""
        return self._scheduler.reconcile(settings)

    def _polling(self) -> bool:
        """Whether polls are scheduled (the engine on PostgreSQL has its own answer)."""
        return self._scheduler.running

    def check_health(self) -> tuple[bool, dict[str, Any]]:
        """The /healthz verdict and its JSON body."""
        now = datetime.now(UTC)
        running = self._pipeline is not None and self._polling()
        live = Liveness(running, self.health.started, self.health.last_job, self.settings.stale_after())
        fault = self._store_fault
        try:
            oldest, depth = self.store.oldest_owed(), self.store.outbox_depth()
            dead = self.store.dead_letters(now - RECENT_DEAD_LETTERS)
        except self.store.faults as exc:
            fault, oldest, depth, dead = describe(exc), None, None, 0
        faults = [f"the database fails: {fault} (disk full? a damaged file? see the log)"] if fault else []
        concerns = [c for c in (self._sources.concern(),) if c]
        if dead:
            concerns.append(f"{dead} deliveries given up on in the last 24 h (dead letters; see the log)")
        waiting = self._notifiers_waiting()
        concerns += [f"notifier {w['name']} ({w['kind']}) cannot start: {w['reason']}; its alerts are kept for it"
                     for w in waiting]
        return assess(live, now, {
            "polls": self.health.polls,
            "failed_polls": self.health.failures,
            "sources_failing": self._sources.failing,
            "outbox_depth": depth,
            "oldest_owed_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
            "dead_letters": dead,
            "notifiers_waiting": waiting,
            "source_problems": [{"source": p.source or "*", "problem": p.kind, "since": p.since.isoformat(),
                                 "message": p.message} for p in self._watch.problems()],
        }, concerns, faults)

    def _notifiers_waiting(self) -> list[dict[str, str]]:
        """The notifiers that cannot start, and why, for /healthz."""
        return [{"name": name, "kind": w.kind, "reason": w.reason, "since": w.since.isoformat()}
                for name, w in self.roster.waiting.items()]

    def _metrics_page(self) -> bytes:
        self.metrics.notifiers(self.roster.up())
        self.metrics.source_problems((p.source, p.kind) for p in self._watch.problems())
        return self.metrics.render(self.store)

    def _status_page(self) -> bytes:
        return status.render(self.settings, self.store, self.check_health()[1], datetime.now(UTC))

    async def _start_extras(self, stack: AsyncExitStack) -> None:
        """The health endpoint, the config watcher and retention, as the config asks."""
        mon = self.settings.monitor
        if mon.health.enabled:
            page = self._status_page if serves_status_page(mon.health.host, mon.health.status_page) else None
            self.health_server = HealthServer(
                mon.health.host, mon.health.port, self.check_health, self._metrics_page, page
            )
            try:
                await self.health_server.start()
            except OSError as exc:  # e.g. the port is taken: run on, /healthz stays unreachable and says so
                log.error("health endpoint not started on %s:%d: %s", mon.health.host, mon.health.port, exc)
            stack.push_async_callback(self.health_server.stop)
        keep, store = mon.retention, self.store
        if mon.reload.watch:
            background(stack, "config watcher", self._config_watch.run)
        background(stack, "retention", lambda: prune_forever(store, keep.max_age, keep.every, self.metrics.pruned))
        background(stack, "notifier retry", self._retry_notifiers)
        background(stack, "source health", self._review_forever)
        background(stack, "page re-checks", self._recheck_forever)

    async def _retry_notifiers(self) -> None:
        """Try the notifiers that cannot start every `notifier_retry` seconds, and at once after a reload."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.notifier_retry):
                    await self._retry.wait()
            self._retry.clear()
            if await self.roster.start():
                self._wake.set()  # deliver what they were owed

    def _prepare(self, notifier: Notifier) -> None:
        """Hook a notifier into the service before it starts: Telegram's send metrics, dead-letter notices and,
        for the first telegram notifier, the bot (subscriber and admin commands)."""
        if "monitor.notify.telegram" not in sys.modules:  # loaded with the first telegram notifier: python-telegram-bot
            return  # takes 0.1 s to import, which a process without Telegram need not spend
        from monitor.bot.app import admin_notice, start_bot
        from monitor.bot.handlers import AdminHooks
        from monitor.notify.telegram import TelegramNotifier

        if not isinstance(notifier, TelegramNotifier):
            return

        notifier.on_send = self.metrics.telegram_send
        notifier.on_dead_letter = self._tell_admins
        if self._bot is not None or not self.runs_bot:
            return
        watchlists = lambda: {w.name: w.description for w in self.settings.watchlists}  # noqa: E731 - follows reloads

        async def reload() -> str:
            return self.reload()

        hooks = AdminHooks(status=self.status_text, sources=self.sources_text, reload=reload)
        self._bot = start_bot([notifier], watchlists, hooks)
        tell = admin_notice([notifier])
        if tell:
            self.admin_notices.append(tell)

    async def _stop_bot(self) -> None:
        if self._bot is not None:
            self._bot.cancel()
            await asyncio.gather(self._bot, return_exceptions=True)

    def status_text(self) -> str:
        """/status: uptime, failing sources, outbox depth, last cycle."""
        healthy, body = self.check_health()
        uptime = datetime.now(UTC) - self.health.started
        last = self.health.last_cycle.strftime("%Y-%m-%d %H:%M:%S UTC") if self.health.last_cycle else "none yet"
        return (
            f"{'healthy' if healthy else 'UNHEALTHY'}; up {str(uptime).split('.')[0]}\n"
            f"last cycle: {last}; polls {body['polls']}, failed {body['failed_polls']}\n"
            f"sources failing: {body['sources_failing']}; outbox: {body['outbox_depth']} owed"
            + (f", oldest {body['oldest_owed_age_seconds']:.0f}s" if body["oldest_owed_age_seconds"] else "")
            + (f"; dead letters (24 h): {body['dead_letters']}" if body["dead_letters"] else "")
            + "".join(f"\nnotifier {w['name']} waiting: {w['reason']}" for w in body["notifiers_waiting"])
        )

    def sources_text(self) -> str:
        """/sources: one line per source with its last status and errors."""
        states = {s.name: s for s in self.store.source_states()}
        lines = []
        for source in self.settings.monitor.sources:
            state = states.get(source.name)
            status = (state.last_status or "-") if state else "never polled"
            failing = state is not None and state.error_count > 0
            errors = f", {state.error_count} error(s): {(state.last_error or '')[:80]}" if state and failing else ""
            lines.append(f"{source.name}{'' if source.enabled else ' (off)'}: {status}{errors}")
        return "\n".join(lines) or "no sources configured"

    def _install_signals(self) -> None:
        """SIGTERM and SIGINT stop the service, SIGHUP reloads the config (in the main thread)."""
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self.stop), (signal.SIGINT, self.stop), (signal.SIGHUP, self.reload)):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: no signals
                loop.add_signal_handler(sig, handler)

    async def run(self) -> None:
        """Run until stop() or SIGTERM/SIGINT; SIGHUP reloads the config."""
        from monitor.scheduler import Scheduler

        lock = DatabaseLock(self.settings.db_path, "run")
        lock.hold()  # before anything can deliver: a second process on this database refuses to start
        self._install_signals()
        async with AsyncExitStack() as stack:
            stack.callback(lock.release)  # the last thing the stack undoes
            fetcher = await stack.enter_async_context(Fetcher(self.settings.monitor.fetch))
            stack.push_async_callback(self.roster.stop)
            await self.roster.start()
            stack.push_async_callback(self._stop_bot)  # the bot stops before the notifiers (the stack unwinds)
            notifiers = self.roster.running  # grows when a waiting notifier starts
            workers = build_workers(self.settings)
            stack.callback(workers.close)
            self._pipeline = Pipeline(
                self.store,
                fetcher,
                workers,
                self.roster.owed,
                self.settings.monitor.fetch,
            )
            stored = {s.name: SourceFailure(s.last_error or "") for s in self.store.source_states() if s.error_count}
            self._sources.configure(self._enabled(), stored)
            self._scheduler = Scheduler(self._poll_job)
            self._scheduler.start(self.settings)
            stack.callback(self._scheduler.shutdown)
            tell = self._tell_admins
            deliver = partial(dispatch_forever, self.store, notifiers, self._wake, on_dead_letter=tell)
            dispatcher = asyncio.create_task(supervise("dispatcher", deliver))
            await self._start_extras(stack)
            log.info(
                "monitor running: %d sources, %d watch lists, notifiers: %s%s",
                len(self.settings.enabled_sources()),
                len(self.settings.watchlists),
                ", ".join(n.name for n in notifiers),
                "".join(f", {name} (waiting)" for name in self.roster.waiting),
            )
            await self._stop.wait()
            log.info("stopping")
            self._scheduler.shutdown()
            await stop_dispatcher(dispatcher, notifiers, patience=4)
            await drain_before_exit(self.store, notifiers, budget=4, on_dead_letter=tell)  # hand over what is owed
        self.store.close()
        log.info("stopped")


def background(stack: AsyncExitStack, name: str, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `job()` as a supervised task (restarted when it dies) that is cancelled when `stack` closes."""
    task = asyncio.create_task(supervise(name, job))

    async def cancel() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(cancel)
