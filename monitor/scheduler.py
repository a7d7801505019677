"""APScheduler jobs from the config: one job per enabled source, reconciled when the config changes, and
rescheduled after each poll with the interval the poll chose (adaptive polling, backoff)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.cadence import Bounds
from monitor.config import Settings, SourceConfig

log = logging.getLogger(__name__)

PollJob = Callable[[SourceConfig, Bounds], Awaitable[float | None]]  # returns seconds to the next poll (None: same)


class Scheduler:
    """Keeps one interval job per enabled source in step with the current settings; each job's interval is the
    one its last poll returned, plus the source's jitter."""

    def __init__(self, poll: PollJob) -> None:
        self._poll = poll
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._jobs: dict[str, tuple[SourceConfig, Bounds, float]] = {}
        self._intervals: dict[str, float] = {}  # each job's interval now

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self, settings: Settings) -> None:
        """Start with the jobs for these settings (call inside the running event loop)."""
        self.reconcile(settings)
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def reconcile(self, settings: Settings) -> tuple[list[str], list[str], list[str]]:
        """Add, change and remove jobs so they match `settings`; return (added, changed, removed) names."""
        wanted = {
            s.name: (s, settings.source_bounds(s), settings.source_jitter(s)) for s in settings.enabled_sources()
        }
        added: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        for name in list(self._jobs):
            if name not in wanted:
                self._scheduler.remove_job(name)
                del self._jobs[name], self._intervals[name]
                removed.append(name)
        grace = int(settings.monitor.schedule.misfire_grace)
        for name, spec in wanted.items():
            if self._jobs.get(name) == spec:
                continue
            source, bounds, jitter = spec
            (changed if name in self._jobs else added).append(name)
            self._scheduler.add_job(
                self._run,
                _trigger(bounds.start, jitter),
                args=(source, bounds, jitter),
                id=name,
                name=f"poll {name}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=grace,
                # first poll soon after start, spread over the jitter window so sources don't all fire at once
                next_run_time=datetime.now(UTC) + timedelta(seconds=spread(name, min(jitter, bounds.start))),
            )
            self._jobs[name], self._intervals[name] = spec, bounds.start
        if added or changed or removed:
            log.info("schedule: %d added, %d changed, %d removed", len(added), len(changed), len(removed))
        return added, changed, removed

    def interval(self, name: str) -> float:
        """The interval of a source's job now (KeyError for a source without a job)."""
        return self._intervals[name]

    async def _run(self, source: SourceConfig, bounds: Bounds, jitter: float) -> None:
        """Poll, then run the job again the interval the poll returned (+ jitter) from now, if that changed."""
        interval = await self._poll(source, bounds)
        if interval is None or self._jobs.get(source.name) != (source, bounds, jitter):
            return  # unchanged, or the config replaced or removed the job meanwhile
        if interval != self._intervals[source.name]:
            self._scheduler.reschedule_job(source.name, trigger=_trigger(interval, jitter))
            self._intervals[source.name] = interval
            log.debug("source %s: next polls every %.0f s", source.name, interval)


def _trigger(interval: float, jitter: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=interval, jitter=jitter or None, timezone=UTC)


def spread(name: str, window: float) -> float:
    """A stable offset in [0, window) for a source, so first polls are staggered deterministically."""
    return (sum(name.encode()) * 7919 % 1000) / 1000 * window
