"""Prometheus metrics of one service instance, in a registry of its own (never the global default one).

The service counts polls, matches, alerts and reloads as they happen; gauges that mirror stored state
(outbox depth, oldest owed alert, per-source errors) are refreshed from the store when scraped.
Notifiers count their own sends through `Metrics.telegram_*`.
"""

from __future__ import annotations

import contextlib
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.notify import RECENT_DEAD_LETTERS
from monitor.records import PollReport
from monitor.store import Store
from monitor.store.retention import PruneReport

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def error_kind(report: PollReport) -> str:
    """A short label for a failed poll: `crash`, the HTTP status, `parse`, or `fetch` (network, size, redirects)."""
    if report.crashed:
        return "crash"
    if report.error_type in ("ParseError", "NoLinks"):
        return "parse"
    if report.status is not None and report.status >= 400:
        return str(report.status)
    return "fetch"


class Metrics:
    """Every metric the service exports; `render()` gives the Prometheus text format."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.polls = Counter("monitor_polls", "Polls of a source, by outcome (ok, not_modified, error)",
                             ["source", "outcome"], registry=r)
        self.poll_errors = Counter("monitor_poll_errors", "Failed polls, by kind (HTTP status, parse, fetch)",
                                   ["source", "kind"], registry=r)
        self.poll_seconds = Histogram("monitor_poll_duration_seconds", "Time to poll a source (fetch, parse, store)",
                                      ["source"], buckets=LATENCY_BUCKETS, registry=r)
        self.poll_crashes = Counter("monitor_poll_crashes", "Polls that raised an unexpected exception", ["source"],
                                    registry=r)
        self.article_errors = Counter("monitor_article_errors", "Article pages not fetched or not extracted",
                                      ["source"], registry=r)
        self.articles = Counter("monitor_articles_parsed", "Items parsed from a source's documents", ["source"],
                                registry=r)
        self.skipped = Counter("monitor_items_skipped", "Items not recorded, by reason (repeated, deferred)",
                               ["source", "reason"], registry=r)
        self.matches = Counter("monitor_matches", "Watch-list matches on new or edited text", ["watchlist"], registry=r)
        self.alerts = Counter("monitor_alerts", "Alerts created (owed to every notifier)", ["watchlist"], registry=r)
        self.last_poll = Gauge("monitor_last_poll_timestamp_seconds", "When the scheduler last ran a poll job",
                               registry=r)
        self.outbox_depth = Gauge("monitor_outbox_depth", "Deliveries owed to notifiers (Telegram: per chat)",
                                  registry=r)
        self.oldest_owed = Gauge("monitor_outbox_oldest_owed_age_seconds", "Age of the oldest owed alert (0: none)",
                                 registry=r)
        self.dead_letters = Gauge("monitor_outbox_dead_letters", "Deliveries given up on in the last 24 hours",
                                  registry=r)
        self.source_errors = Gauge("monitor_source_consecutive_errors", "Failed polls in a row (0: last poll was fine)",
                                   ["source"], registry=r)
        self.source_disabled = Gauge("monitor_source_disabled", "1 when a source was disabled (e.g. HTTP 410 Gone)",
                                     ["source"], registry=r)
        self.telegram_sends = Counter("monitor_telegram_sends", "Telegram sendMessage calls, by outcome (ok, error)",
                                      ["outcome"], registry=r)
        self.telegram_retries = Counter("monitor_telegram_retries", "Telegram sends scheduled for a retry", registry=r)
        self.telegram_429 = Counter("monitor_telegram_rate_limited", "Telegram answers 429 Too Many Requests",
                                    registry=r)
        self.reloads = Counter("monitor_config_reloads", "Config reloads, by outcome (ok, rejected)", ["outcome"],
                               registry=r)
        self.prunes = Counter("monitor_retention_pruned", "Rows removed by retention, by table", ["table"], registry=r)
        self.notifier_up = Gauge("monitor_notifier_up", "1 while a notifier runs, 0 while it cannot start (its alerts"
                                 " are kept for it)", ["notifier"], registry=r)
        self.source_problem = Gauge("monitor_source_problem", "1 while a source-health problem is open (source *:"
                                    " every source)", ["source", "problem"], registry=r)
        self.rechecks = Counter("monitor_page_rechecks", "Alerted articles' pages re-checked for edits, by outcome"
                                " (unchanged, updated, error)", ["source", "outcome"], registry=r)
        for outcome in ("ok", "rejected"):
            self.reloads.labels(outcome)

    def observe_poll(self, report: PollReport, seconds: float) -> None:
        """Count one finished poll of a source."""
        source = report.source
        outcome = "error" if report.error else "not_modified" if report.not_modified else "ok"
        self.polls.labels(source, outcome).inc()
        self.poll_seconds.labels(source).observe(seconds)
        if report.error:
            self.poll_errors.labels(source, error_kind(report)).inc()
        if report.crashed:
            self.poll_crashes.labels(source).inc()
        self.article_errors.labels(source).inc(len(report.article_errors))
        self.articles.labels(source).inc(report.items)
        for reason, count in report.skipped.items():
            self.skipped.labels(source, reason).inc(count)
        for watchlist, count in Tally(report.matched).items():
            self.matches.labels(watchlist).inc(count)
        for watchlist, count in Tally(a.watchlist for a in report.alerts).items():
            self.alerts.labels(watchlist).inc(count)
        self.last_poll.set_to_current_time()

    def telegram_send(self, outcome: str) -> None:
        """Count one Telegram send: "ok", "flood" (429, retried), "retry" (network/5xx) or "failed" (refused)."""
        self.telegram_sends.labels("ok" if outcome == "ok" else "error").inc()
        if outcome in ("flood", "retry"):
            self.telegram_retries.inc()
        if outcome == "flood":
            self.telegram_429.inc()

    def notifiers(self, up: Mapping[str, bool]) -> None:
        """Set each notifier's state (True: running, False: waiting to start); notifiers no longer known go."""
        self.notifier_up.clear()
        for name, running in up.items():
            self.notifier_up.labels(name).set(1 if running else 0)

    def source_problems(self, problems: Iterable[tuple[str, str]]) -> None:
        """Set the open source-health problems, (source, kind) each; those cleared go."""
        self.source_problem.clear()
        for source, kind in problems:
            self.source_problem.labels(source or "*", kind).set(1)

    def observe_recheck(self, report: PollReport) -> None:
        """Count one source's round of page re-checks."""
        failed = len(report.article_errors)
        for outcome, count in (("updated", report.updated), ("error", failed),
                               ("unchanged", report.items - report.updated - failed)):
            if count:
                self.rechecks.labels(report.source, outcome).inc(count)

    def pruned(self, report: PruneReport) -> None:
        """Count the rows one retention run removed."""
        for table, count in report.removed.items():
            self.prunes.labels(table).inc(count)

    def refresh(self, store: Store, now: datetime | None = None) -> None:
        """Set the gauges that mirror stored state: the outbox and every source's error streak."""
        now = now or datetime.now(UTC)
        self.outbox_depth.set(store.outbox_depth())
        oldest = store.oldest_owed()
        self.oldest_owed.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        self.dead_letters.set(store.dead_letters(now - RECENT_DEAD_LETTERS))
        for state in store.source_states():
            self.source_errors.labels(state.name).set(state.error_count)
            self.source_disabled.labels(state.name).set(1 if state.disabled else 0)

    def render(self, store: Store | None = None) -> bytes:
        """The Prometheus text exposition, with the stored-state gauges refreshed first when a store is given
        (and can be read: a failing store leaves them as they were, /healthz says why)."""
        if store is not None:
            with contextlib.suppress(*store.faults):
                self.refresh(store)
        return generate_latest(self.registry)

