"""One pass over the sources (`monitor once`, the demo): poll each once, record, deliver what is owed, stop.

It needs none of the service's long-running parts (scheduler, health endpoint, metrics, config reload), so
`monitor once` does not import them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.config import Settings, SourceConfig
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.notify import drain
from monitor.notify.roster import Roster
from monitor.pipeline import Pipeline
from monitor.query import Matcher
from monitor.records import Alert, PollReport
from monitor.store import open_store
from monitor.store.lock import DatabaseLock
from monitor.workers import Workers, worker_count

log = logging.getLogger(__name__)

def build_workers(settings: Settings) -> Workers:
    """The parsing, extraction and matching workers the config asks for (`workers`)."""
    return Workers(Matcher(settings.watchlist_records()), worker_count(settings.monitor.workers))


async def poll_sources(
    pipeline: Pipeline,
    settings: Settings,
    sources: Sequence[SourceConfig],
    on_done: Callable[[PollReport], None] | None = None,
) -> list[PollReport]:
    """Poll the given sources once, concurrently; the fetcher's limits keep it polite."""

    async def one(source: SourceConfig) -> PollReport:
        report = await pipeline.poll(source, settings.source_bounds(source))
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
    """The named sources (enabled or not; each once, however often named), or every enabled source when no name
    is given."""
    if not names:
        return settings.enabled_sources()
    known = {s.name: s for s in settings.monitor.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [known[n] for n in dict.fromkeys(names)]


async def run_once(
    settings: Settings,
    names: Sequence[str] = (),
    *,
    dry_run: bool = False,
    on_done: Callable[[PollReport], None] | None = None,
) -> OnceResult:
    """One pass over the sources, then deliver what is owed. `dry_run` records and delivers nothing.

    Alerts are owed to every configured notifier; those that cannot start keep them for a later run.
    While another process (a running service) holds the database, the pass records its alerts and
    leaves their delivery to that process.
    """
    sources = select_sources(settings, names)
    nothing_yet = dry_run and not settings.database_url and not settings.db_path.exists()
    disk = open_store(settings, in_memory=nothing_yet)  # a dry run makes no database file
    lock = DatabaseLock(settings.db_path, "once")
    holder = None if dry_run else lock.acquire() or _engine(settings)
    store = disk.snapshot() if dry_run else disk
    roster = Roster(store, settings)
    try:
        if not dry_run and holder is None:
            await roster.start()
        async with Fetcher(settings.monitor.fetch) as fetcher:
            workers = build_workers(settings)
            pipeline = Pipeline(store, fetcher, workers, roster.owed, settings.monitor.fetch)
            try:
                reports = await poll_sources(pipeline, settings, sources, on_done)
            finally:
                workers.close()
        if holder is not None:
            log.warning("the database %s is in use by %s: this pass recorded its alerts and leaves their delivery"
                        " to it", "on PostgreSQL" if settings.database_url else settings.db_path, holder)
        for notifier in roster.running:
            while await drain(store, notifier, limit=1000):
                pass
    finally:
        await roster.stop()
        if store is not disk:
            store.close()
        disk.close()
        lock.release()
    return OnceResult(reports, [a for r in reports for a in r.alerts])


def _engine(settings: Settings) -> str | None:
    """On PostgreSQL, the engine's processes that run now (they deliver what a pass records), else None."""
    if not settings.database_url:
        return None
    from monitor.store.postgres_engine import engine_running

    return engine_running(settings.database_url, settings.monitor.engine.stalled_after)
