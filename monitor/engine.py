"""The engine on PostgreSQL: procrastinate jobs poll the sources and deliver the outbox, shared by `monitor run` and
any number of `monitor worker` processes on one database (SQLite keeps APScheduler in one process: `service`).

- `poll(source)`: lock and queueing lock `poll:NAME`, so one poll job per source waits and none overlaps another.
  It polls only a due source (a job made from a stale view finds it polled and does nothing), through the
  service's poll: the article, its alerts and the source's state commit in one transaction or not at all.
- `deliver(notifier)`: drains what is owed to one notifier, oldest first (lock `deliver:NAME`: one at a time). It is
  deferred inside the transaction that makes the alerts (`PostgresStore.on_alerts`), so an alert committed always
  has a job to deliver it; the tick defers it again for retries that fall due.
- `tick`: every second, deferred once however many processes run, run by `monitor run` (queue `schedule`): defers
  the polls that fall due before the next tick, each to start at its source's `next_due` (a never-polled source at a
  stable offset in its jitter window), and due deliveries.
- A poll's own statements outside its transaction (the source's state read, a 304's or a failure's state saved) run
  on procrastinate's async pool (`PostgresStore.async_pool`), so they do not block the event loop.
- `recover`: the jobs of a process that stopped sending heartbeats (killed) are retried, or, when a job of the same
  queueing lock already waits to do the same work, finished as failed.

Telegram's notifiers, their bot (getUpdates) and their queue `deliver-main` run in one process at a time: the
`monitor run` that holds the advisory lock "monitor:telegram" (`AdvisoryLock`). Its single sender keeps Telegram's
limits (30 messages/s per bot, 1/s per chat, 20/min per group; `notify.telegram_rate`) and each chat's order
however many processes run; another `monitor run` takes over within TAKEOVER seconds of its death. A holder that
loses its lock's connection stops (its supervisor restarts it) rather than risk a second sender.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Job, Status
from psycopg_pool import AsyncConnectionPool

from monitor.config import Settings, SourceConfig
from monitor.errors import ConfigError, MonitorError
from monitor.fetch import Fetcher
from monitor.notify import drain
from monitor.notify.roster import Roster, configured
from monitor.once import build_workers
from monitor.pipeline import Pipeline
from monitor.scheduler import spread
from monitor.service import Service, background
from monitor.store.postgres import PostgresStore, server_spoke
from monitor.store.postgres_engine import DELIVER_LOCK, POLL_LOCK, due_deliveries, due_polls, migrate
from monitor.store.postgres_lock import AdvisoryLock
from monitor.store.postgres_telegram import Connection

log = logging.getLogger(__name__)

Role = Literal["run", "worker"]
POLL, DELIVER, DELIVER_MAIN, SCHEDULE = "poll", "deliver", "deliver-main", "schedule"  # queues
MAIN_ONLY = frozenset({"telegram"})  # notifier kinds that deliver in `monitor run` only
QUEUES: dict[Role, list[str]] = {"run": [SCHEDULE, POLL, DELIVER], "worker": [POLL, DELIVER]}  # + DELIVER_MAIN
TELEGRAM_LOCK = "monitor:telegram"
TICK = 1.0  # seconds between ticks (its cron: every second)
TAKEOVER = 2.0  # seconds between tries of the Telegram lock, and between checks that it is still held
DRAIN_BATCH = 100
SHUTDOWN_PATIENCE = 4.0  # seconds running jobs get to finish at a stop; then they are cancelled (and redone later)


class EngineService(Service):
    """`monitor run` (role "run": the tick, the bot, /healthz) or `monitor worker` on PostgreSQL; both run jobs."""

    def __init__(self, settings: Settings, role: Role, *, health_port: int | None = None) -> None:
        url = settings.database_url
        if not url:
            raise ConfigError("monitor worker needs the store on PostgreSQL: set storage.url or $MONITOR_DATABASE_URL")
        self.role, self.health_port = role, health_port
        super().__init__(self._for_role(settings))
        if not log.isEnabledFor(logging.DEBUG):  # else two lines per job (started, ended): hundreds a second
            logging.getLogger("procrastinate").setLevel(logging.WARNING)
        assert isinstance(self.store, PostgresStore)
        self.pg: PostgresStore = self.store
        self.runs_bot = role == "run"
        self.roster = self.notifiers = EngineRoster(self.store, settings, self._prepare)
        self.telegram_lock = AdvisoryLock(url, TELEGRAM_LOCK)
        self._fatal: str | None = None  # why the process stops with an error
        self._by_name = _sources(settings)
        self._working = False
        migrate(url)
        # Autocommit: each of procrastinate's statements commits in the server. Its pool would otherwise commit at
        # the next await, and a store call blocking the event loop meanwhile on a row that statement wrote (a
        # queueing lock) would wait for ever on its own process.
        self.connector = PsycopgConnector(conninfo=url, min_size=1, max_size=4, configure=_autocommit,
                                          pool_factory=_pool)
        self.app = _app(self.connector, self)
        self._deferrer = _app(SyncPsycopgConnector(conninfo=url), self)  # never opened: defers on the store's own
        self.pg.on_alerts = self._defer_deliveries

    def _for_role(self, settings: Settings) -> Settings:
        """The settings of this process: no source health in any (each process sees only the polls it makes, and
        all would keep the same sources' state); for a worker also /healthz only where asked for (several workers
        may share a machine), and no page re-checks (`monitor run` does them; each worker would re-check the same
        pages)."""
        mon = settings.monitor
        health_off = mon.source_health.model_copy(update={"enabled": False})
        if self.role == "run":
            changed = mon.model_copy(update={"source_health": health_off})
            return settings.model_copy(update={"monitor": changed})
        port = self.health_port
        health = mon.health.model_copy(update={"enabled": port is not None, "port": port or 0})
        recheck = mon.page_recheck.model_copy(update={"enabled": False})
        changed = mon.model_copy(update={"health": health, "page_recheck": recheck, "source_health": health_off})
        return settings.model_copy(update={"monitor": changed})

    def reload(self) -> str:
        outcome = super().reload()
        self.settings = self._for_role(self.settings)
        return outcome

    def _reconcile(self, settings: Settings) -> tuple[list[str], list[str], list[str]]:
        old, self._by_name = self._by_name, _sources(settings)
        added = [n for n in self._by_name if n not in old]
        changed = [n for n, s in self._by_name.items() if n in old and old[n] != s]
        return added, changed, [n for n in old if n not in self._by_name]

    def _polling(self) -> bool:
        return self._working

    # jobs

    async def poll(self, source: str) -> None:
        """Poll one source if it is still configured, enabled and due."""
        found = self._by_name.get(source)
        if found is None:
            log.info("poll of %s skipped: no such enabled source in the config", source)
            return
        await self._poll_job(found, self.settings.source_bounds(found), due_only=True)

    async def deliver(self, notifier: str) -> None:
        """Deliver what is owed to one notifier, if it runs in this process (else the tick defers it again)."""
        running = {n.name: n for n in self.roster.running}.get(notifier)
        if running is None:
            log.info("delivery to %s skipped: the notifier does not run in this process", notifier)
            return
        while await drain(self.store, running, limit=DRAIN_BATCH, on_dead_letter=self._tell_admins) == DRAIN_BATCH:
            pass

    async def tick(self) -> None:
        """Defer the polls due before the next tick, each to start when it is due, and the deliveries that are due;
        none that is queued already."""
        now = datetime.now(UTC)
        jobs = []
        until = now + timedelta(seconds=TICK)  # in a thread: 35 ms at 50,000 sources
        for name, fresh, due in await asyncio.to_thread(due_polls, self.pg, list(self._by_name), until):
            source = self._by_name[name]
            bounds, jitter = self.settings.source_bounds(source), self.settings.source_jitter(source)
            if fresh:  # never polled: at a stable offset in its jitter window
                start: datetime | None = now + timedelta(seconds=spread(name, min(jitter, bounds.start)))
            else:
                start = due if due and due > now else None
            jobs.append(_job(POLL, POLL_LOCK + name, "monitor.poll", {"source": name}, start))
        jobs += [self._delivery(name) for name in await asyncio.to_thread(due_deliveries, self.pg, now)]
        await _defer_all(self.app, jobs)

    async def recover(self) -> None:
        """Retry the jobs of processes that died (no heartbeat for `engine.stalled_after`)."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.monitor.engine.stalled_after):
            try:
                await manager.retry_job(job)
                log.warning("job %s (%s) of a dead process retried", job.id, job.call_string)
            except UniqueViolation:  # a job of the same queueing lock waits and does the same work
                await manager.finish_job(job, Status.FAILED, delete_job=False)
                log.warning("job %s (%s) of a dead process dropped: a waiting job does its work", job.id,
                            job.call_string)

    def _delivery(self, notifier: str) -> Job:
        kinds = {c.name: c.kind for c in configured(self.settings)}
        queue = DELIVER_MAIN if kinds.get(notifier) in MAIN_ONLY else DELIVER
        return _job(queue, DELIVER_LOCK + notifier, "monitor.deliver", {"notifier": notifier})

    def _defer_deliveries(self, conn: Connection, notifiers: Sequence[str]) -> None:
        """Inside the transaction that made alerts: a delivery job per notifier they are owed to, unless one waits
        (each in a savepoint: a queueing-lock conflict must not abort the alerts' transaction)."""
        for notifier in notifiers:
            with suppress(AlreadyEnqueued), conn.transaction():
                self._deferrer.job_manager.defer_job(self._delivery(notifier), connection=conn)

    # the process

    async def run(self) -> None:
        """Run jobs (and, for `monitor run`, the tick, the bot and the extras) until stop() or SIGTERM/SIGINT."""
        self._install_signals()
        async with AsyncExitStack() as stack:
            stack.callback(self.store.close)
            fetcher = await stack.enter_async_context(Fetcher(self.settings.monitor.fetch))
            stack.push_async_callback(self.roster.stop)
            await self.roster.start()
            stack.push_async_callback(self._stop_bot)
            workers = build_workers(self.settings)
            stack.callback(workers.close)
            self._pipeline = Pipeline(self.store, fetcher, workers, self.roster.owed, self.settings.monitor.fetch)
            self._sources.configure(self._enabled())
            await stack.enter_async_context(self.app.open_async())
            self.pg.async_pool = self.connector.pool  # the poll's own statements, on the loop
            stack.callback(setattr, self.pg, "async_pool", None)
            engine = self.settings.monitor.engine
            worker = asyncio.create_task(self.app.run_worker_async(
                queues=QUEUES[self.role], name=f"{self.role}-{socket.gethostname()}-{os.getpid()}",
                concurrency=engine.concurrency, install_signal_handlers=False, delete_jobs="successful",
                update_heartbeat_interval=engine.heartbeat, stalled_worker_timeout=engine.stalled_after,
                fetch_job_polling_interval=1.0, shutdown_graceful_timeout=SHUTDOWN_PATIENCE,
            ))
            self._working = True
            await self._start_extras(stack)
            if self.role == "run":
                background(stack, "telegram", self._telegram_role)
            log.info("monitor %s: %d sources, notifiers: %s; jobs from queues %s, %d at a time",
                     "running" if self.role == "run" else "worker running", len(self._by_name),
                     ", ".join(n.name for n in self.roster.running), ", ".join(QUEUES[self.role]), engine.concurrency)
            stopped = asyncio.create_task(self._stop.wait())
            await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not self._stop.is_set():  # procrastinate's worker gave up (it logged why): exit non-zero
                self._fatal = "the job worker stopped (see the log); this process stops too"
            log.info("stopping")
            self._working = False
            worker.cancel()  # running jobs get SHUTDOWN_PATIENCE, then they are cancelled (and redone later)
            with suppress(asyncio.CancelledError):
                await worker
            stopped.cancel()
            self.telegram_lock.release()
        if self._fatal:
            raise MonitorError(self._fatal)
        log.info("stopped")

    async def _telegram_role(self) -> None:
        """Wait for the Telegram lock; holding it, start Telegram's notifiers (and so the bot) and run its queue,
        and stop the process if the lock is lost."""
        while not self.telegram_lock.try_acquire():
            await asyncio.sleep(TAKEOVER)
        log.info("this process sends Telegram's messages and polls its bot now (lock %s)", TELEGRAM_LOCK)
        self.notifiers.main = True
        self.notifiers.configure(self.settings)
        await self.notifiers.start()
        telegram = asyncio.create_task(self.app.run_worker_async(
            queues=[DELIVER_MAIN], name=f"telegram-{socket.gethostname()}-{os.getpid()}", concurrency=1,
            install_signal_handlers=False, delete_jobs="successful", fetch_job_polling_interval=1.0,
            update_heartbeat_interval=self.settings.monitor.engine.heartbeat,
            stalled_worker_timeout=self.settings.monitor.engine.stalled_after,
        ))
        try:
            while self.telegram_lock.held() and not telegram.done():
                await asyncio.sleep(TAKEOVER)
        finally:
            telegram.cancel()
            await asyncio.gather(telegram, return_exceptions=True)
        if not self._stop.is_set():
            self._fatal = f"the Telegram lock {TELEGRAM_LOCK} or its worker was lost; this process stops"
            log.error("%s", self._fatal)
            self.stop()


class EngineRoster(Roster):
    """An engine process's notifiers: those of the MAIN_ONLY kinds start only once `main` (the process holds the
    Telegram lock), the others at once; new alerts are owed to every configured one."""

    main = False

    def configure(self, settings: Settings) -> None:
        self._owed = [c.name for c in configured(settings)]
        here = [n for n in settings.monitor.notifiers if self.main or n.kind not in MAIN_ONLY]
        super().configure(settings.model_copy(update={"monitor": settings.monitor.model_copy(
            update={"notifiers": here})}))

    def owed(self) -> list[str]:
        return self._owed


async def _autocommit(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.set_autocommit(True)
    await conn.execute("SET TIME ZONE 'UTC'")  # as the store's connections: its async calls run on this pool


async def _check(conn: psycopg.AsyncConnection[Any]) -> None:
    """A connection of procrastinate's pool as it is handed out: replaced when the server spoke and an empty query
    fails."""
    if server_spoke(conn):
        await AsyncConnectionPool.check_connection(conn)


def _pool(**kwargs: Any) -> AsyncConnectionPool[Any]:
    """procrastinate's pool, checking a connection as the store's pool does (`server_spoke`) where procrastinate
    would make an empty query on every checkout: two more round trips per job."""
    return AsyncConnectionPool(**{**kwargs, "check": _check})


def _sources(settings: Settings) -> dict[str, SourceConfig]:
    return {s.name: s for s in settings.enabled_sources()}


def _job(queue: str, lock: str, task: str, kwargs: dict[str, Any], at: datetime | None = None) -> Job:
    return Job(id=None, queue=queue, lock=lock, queueing_lock=lock, task_name=task, task_kwargs=kwargs,
               scheduled_at=at)


async def _defer_all(app: App, jobs: list[Job]) -> None:
    """Defer the jobs in one statement; when one of them is queued meanwhile, each on its own (that one skipped)."""
    if not jobs:
        return
    try:
        await app.job_manager.batch_defer_jobs_async(jobs)
    except AlreadyEnqueued:
        for job in jobs:
            with suppress(AlreadyEnqueued):
                await app.job_manager.defer_job_async(job)


def _app(connector: PsycopgConnector | SyncPsycopgConnector, service: EngineService) -> App:
    """A procrastinate app with the engine's tasks, run by `service`."""
    app = App(connector=connector)

    @app.task(name="monitor.poll", queue=POLL)
    async def poll(source: str) -> None:
        await service.poll(source)

    @app.task(name="monitor.deliver", queue=DELIVER)
    async def deliver(notifier: str) -> None:
        await service.deliver(notifier)

    @app.periodic(cron="* * * * * *", periodic_id="tick")  # every TICK
    @app.task(name="monitor.tick", queue=SCHEDULE, lock="tick", queueing_lock="tick")
    async def tick(timestamp: int) -> None:
        await service.tick()

    @app.periodic(cron="*/2 * * * * *", periodic_id="recover")
    @app.task(name="monitor.recover", queue=SCHEDULE, lock="recover", queueing_lock="recover")
    async def recover(timestamp: int) -> None:
        await service.recover()

    return app
