"""APScheduler jobs from the config: one job per enabled source, reconciled when the config changes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Settings, SourceConfig

log = logging.getLogger(__name__)

PollJob = Callable[[SourceConfig, float], Awaitable[object]]


class Scheduler:
    """Keeps one interval job per enabled source in step with the current settings."""

    def __init__(self, poll: PollJob) -> None:
        self._poll = poll
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._jobs: dict[str, tuple[SourceConfig, float, float]] = {}

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
            s.name: (s, settings.source_interval(s), settings.source_jitter(s)) for s in settings.enabled_sources()
        }
        added: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        for name in list(self._jobs):
            if name not in wanted:
                self._scheduler.remove_job(name)
                del self._jobs[name]
                removed.append(name)
        grace = int(settings.monitor.schedule.misfire_grace)
        for name, spec in wanted.items():
            if self._jobs.get(name) == spec:
                continue
            source, interval, jitter = spec
            (changed if name in self._jobs else added).append(name)
            self._scheduler.add_job(
                self._poll,
                IntervalTrigger(seconds=interval, jitter=jitter or None, timezone=UTC),
                args=(source, interval),
                id=name,
                name=f"poll {name}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=grace,
                # first poll soon after start, spread over the jitter window so sources don't all fire at once
                next_run_time=datetime.now(UTC) + timedelta(seconds=_spread(name, min(jitter, interval))),
            )
            self._jobs[name] = spec
        if added or changed or removed:
            log.info("schedule: %d added, %d changed, %d removed", len(added), len(changed), len(removed))
        return added, changed, removed


def _spread(name: str, window: float) -> float:
    """A stable offset in [0, window) for a source, so first polls are staggered deterministically."""
    return (sum(name.encode()) * 7919 % 1000) / 1000 * window
