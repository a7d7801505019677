"""`Pipeline.poll(source)`: fetch, parse, extract, diff/dedupe, match, record alerts — in that order.

No global state: the store, fetcher, workers (parsing, extraction, matching) and who alerts are owed to are handed in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import NamedTuple

from monitor import diff
from monitor.cadence import WINDOWS, Bounds, Cadence, after_failure, after_success, feed_ttl
from monitor.config import FetchConfig, SourceConfig
from monitor.errors import AddressRefused, FetchError, MonitorError
from monitor.fetch import Fetcher
from monitor.query import Matcher
from monitor.records import DISABLED_UNTIL, Article, PollReport, SourceState
from monitor.store import Candidate, Recorded, Revision, Store, StoredArticle
from monitor.workers import MAX_TEXT_CHARS, Analysis, Parsed, Workers, clipped

log = logging.getLogger(__name__)

NEAR_DUPLICATE_WINDOW = timedelta(hours=24)
YIELD_EVERY = 50  # items analysed between two yields to the event loop
MIN_WORDS_FOR_NEAR_DUPLICATE = 40  # short teasers are too alike to call duplicates
SKIP_REASONS = {
    "repeated": "repeated in the document",
    "deferred": "over max_articles (read at the next poll)",
}


class Start(NamedTuple):
    """What a poll starts from: the source's stored state and, when the store gave them with it, `Store.new_items`
    over cadence.WINDOWS (None: asked when the poll's cadence needs them)."""

    state: SourceState
    stored: list[int] | None


class Pipeline:
    """Runs one source through every stage; safe to call concurrently for different sources."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        workers: Workers,
        owed_to: Callable[[], Sequence[str]],
        fetch_config: FetchConfig | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.workers = workers
        self.owed_to = owed_to  # the notifiers a new alert is owed to, asked as each document is recorded
        self.fetch_config = fetch_config or FetchConfig()

    async def start(self, name: str, now: datetime) -> Start:
        """What a poll of source `name` at `now` starts from (`Store.poll_state`)."""
        return Start(*await self.store.poll_state_async(name, _windows(now)))

    async def poll(
        self, source: SourceConfig, bounds: Bounds, now: datetime | None = None, start: Start | None = None
    ) -> PollReport:
        """Poll one source once; never raises for an error of its own (fetch, parse, or any exception its documents
        cause): that is recorded as the source's error and backed off, and other sources go on. A fault of the
        store (`Store.faults`) is no source's error and has nowhere to be recorded: it is raised. The source's next
        interval adapts within `bounds` (`monitor.cadence`) and is saved with its state and put in the report.
        `start`: what it starts from (`Pipeline.start`) when the caller has just read it; else it is read here."""
        now = now or datetime.now(UTC)
        report = PollReport(source.name)
        start = await self.start(source.name, now) if start is None else start
        state = start.state
        try:
            await self._poll(source, bounds, now, start, report)
        except self.store.faults:
            raise
        except Exception as exc:
            report.error, report.error_type = describe(exc), type(exc).__name__
            report.crashed = not isinstance(exc, MonitorError)
            if isinstance(exc, FetchError) and exc.status is not None:
                report.status = exc.status
            report.next_poll = await self._record_failure(state, bounds, exc, report.error, now)
            where = {"source": source.name}
            if report.crashed:
                log.error("poll of %s crashed: %s", source.name, report.error, exc_info=traced(exc), extra=where)
            else:
                log.warning("source %s failed: %s", source.name, report.error, extra=where)
        return report

    async def _poll(self, source: SourceConfig, bounds: Bounds, now: datetime, start: Start, report: PollReport
                    ) -> None:
        """Fetch, parse and record one source; raises on its errors (`poll` records them)."""
        state = start.state
        result = await self.fetcher.fetch(
            str(source.url), etag=state.etag, last_modified=state.last_modified, headers=source.headers,
            guard_redirects=not source.allow_private,
        )
        report.status = result.status
        items: list[Parsed] = []
        if not result.not_modified:
            items = await self.workers.parse(source, result, self.store.recent_entry_hashes(source.name))
            report.items = len(items)
        done = replace(
            state,
            etag=result.etag or state.etag,
            last_modified=result.last_modified or state.last_modified,
            last_fetch=now,
            last_success=now,
            last_status=result.status,
            last_error=None,
            error_count=0,
        )
        hints = {"Cache-Control max-age": result.max_age, "RSS ttl": feed_ttl(result.content)}
        known = {name: seconds for name, seconds in hints.items() if seconds is not None}

        def cadence(new: Sequence[Article]) -> Cadence:
            since = _windows(now)
            stored = self.store.new_items(source.name, since) if start.stored is None else start.stored
            arrived = [min(a.published or now, now) for a in new]
            counts = tuple(n + sum(t >= s for t in arrived) for n, s in zip(stored, since, strict=True))
            return after_success(bounds, counts, known)

        await self._process(source, items, report, now, done, cadence)

    async def _record_failure(
        self, state: SourceState, bounds: Bounds, exc: Exception, error: str, now: datetime
    ) -> float:
        """Save a failed poll and when to try again (`cadence.after_failure`); return the seconds until then."""
        errors = state.error_count + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        config = self.fetch_config
        wait = after_failure(bounds, errors, retry_after, config.backoff_base, config.backoff_cap)
        due = now + timedelta(seconds=wait.interval)
        if isinstance(exc, FetchError) and exc.status == 410:  # gone for good: stop polling until the config changes
            due, error = DISABLED_UNTIL, f"{error}: source disabled until its config changes"
            wait = Cadence(wait.interval, "disabled: HTTP 410 Gone")
            log.error("source %s disabled: %s", state.name, exc, extra={"source": state.name})
        await self.store.save_source_state_async(
            replace(
                state,
                last_fetch=now,
                last_status=exc.status if isinstance(exc, FetchError) else state.last_status,
                last_error=error,
                error_count=errors,
                next_due=due,
                interval=wait.interval,
                interval_reason=wait.reason,
            )
        )
        return wait.interval

    async def _process(
        self,
        source: SourceConfig,
        items: list[Parsed],
        report: PollReport,
        now: datetime,
        done: SourceState,
        cadence: Callable[[Sequence[Article]], Cadence],
    ) -> None:
        """Record the new and edited items, with one look-up of the document's items before and one write of all
        of them after reading their pages; the source's state `done` commits with that write, with the next
        interval `cadence` gives for the new items.

        Whatever the document lists is judged by the store alone, never by its date. When items are left
        for later (over `max_articles`), the document's validators are not kept, so the next poll reads it
        again instead of getting a 304.
        """
        seen: set[str] = set()
        unique: list[Parsed] = []
        for parsed in items:
            if parsed.article.id in seen:
                report.skipped["repeated"] += 1
            else:
                seen.add(parsed.article.id)
                unique.append(parsed)
        listed: list[str] = []  # stored articles the document lists unchanged
        todo: list[tuple[Parsed, StoredArticle | None]] = []
        found = self.store.find_articles([(parsed.article.id, parsed.article.guid) for parsed in unique])
        for parsed, stored in zip(unique, found, strict=True):
            if stored is None or stored.entry_hash != parsed.entry:
                todo.append((parsed, stored))
            else:
                listed.append(stored.id)
        if source.fetch_article:
            if len(todo) > source.max_articles:  # the next poll must read the document again, not get a 304
                report.skipped["deferred"] = len(todo) - source.max_articles
                todo, done = todo[: source.max_articles], replace(done, etag=None, last_modified=None)
            pages = await asyncio.gather(*(self._with_page(source, parsed, report) for parsed, _ in todo))
            ready = [(page, stored) for (_, stored), page in zip(todo, pages, strict=True) if page is not None]
            read_at = [parsed.article.url for (parsed, _), page in zip(todo, pages, strict=True) if page is not None]
        else:
            ready, read_at = todo, []
        self._log_skipped(source, report)
        for parsed, _ in ready:
            if parsed.cut:
                log.warning("source %s: article %s text cut to %d characters", source.name, parsed.article.url,
                            MAX_TEXT_CHARS, extra={"source": source.name, "article": parsed.article.id})
        missing = [parsed.article for parsed, _ in ready if parsed.analysis is None]
        analysed = []
        for start in range(0, len(missing), YIELD_EVERY):
            analysed += await self.workers.analyse(missing[start : start + YIELD_EVERY], source.watchlists)
            await asyncio.sleep(0)  # let other sources, deliveries and /healthz run between batches
        computed = iter(analysed)
        chosen = cadence([parsed.article for parsed, stored in ready if stored is None])
        report.next_poll = chosen.interval
        done = replace(done, next_due=now + timedelta(seconds=chosen.interval), interval=chosen.interval,
                       interval_reason=chosen.reason)
        candidates = [self._candidate(item, item.analysis or next(computed), stored, now) for item, stored in ready]
        if not candidates and not listed:  # nothing to record (a 304): the source's state alone, in one statement
            await self.store.save_source_state_async(done)
            return
        revise = partial(self._revise, self.workers.matchers.of(source.watchlists))
        with self.store.transaction():
            recorded = self.store.record(  # the new ETag is kept only together with what it brought
                candidates, revise=revise, notifiers=self.owed_to(), listed=listed, state=done, seen_at=now
            )
            # where an alerted article's page was read, when not at its canonical URL: its re-checks read it there
            self.store.save_page_urls({alert.article_id: url for url, outcome in zip(read_at, recorded, strict=False)
                                       for alert in outcome.alerts if url != alert.url})
        _count(report, recorded)

    async def recheck_due(
        self, sources: Sequence[SourceConfig], every: float, during: float, limit: int, now: datetime | None = None
    ) -> list[PollReport]:
        """Re-check the pages due (`Store.pages_to_recheck`): alerted articles of these sources (those with
        `fetch_article`: the others' texts are not their pages) first alerted within `during`, their pages not read
        for `every`, at most `limit` of them; one report per source that had some."""
        now = now or datetime.now(UTC)
        named = {s.name: s for s in sources if s.fetch_article}
        due = self.store.pages_to_recheck(
            list(named), now - timedelta(seconds=during), now - timedelta(seconds=every), limit
        ) if named else []
        by_source: dict[str, list[tuple[StoredArticle, str]]] = {}
        for stored, page in due:
            by_source.setdefault(stored.source, []).append((stored, page))
        return list(await asyncio.gather(*(self.recheck(named[n], found, now) for n, found in by_source.items())))

    async def recheck(self, source: SourceConfig, due: Sequence[tuple[StoredArticle, str]], now: datetime
                      ) -> PollReport:
        """Read the pages of stored articles again for edits their feed entries do not show. An edit is recorded
        and judged as one the feed shows (`_revise`: what it added, an UPDATED alert once per watch list); the feed
        entries stay as they were. A page that fails is that page's error (in the report); every page asked is
        marked checked, so a failing page waits `every` like the others."""
        report = PollReport(source.name, items=len(due))
        items = [Parsed(Article(url=page, source=source.name, title=s.title, language=source.language, guid=s.guid),
                        s.entry_hash, None) for s, page in due]
        pages = await asyncio.gather(*(self._with_page(source, parsed, report) for parsed in items))
        ready = [(page, stored) for (stored, _), page in zip(due, pages, strict=True) if page is not None]
        analysed = await self.workers.analyse([page.article for page, _ in ready], source.watchlists) if ready else []
        candidates = [self._candidate(page, analysis, stored, now)
                      for (page, stored), analysis in zip(ready, analysed, strict=True)]
        revise = partial(self._revise, self.workers.matchers.of(source.watchlists))
        with self.store.transaction():  # no await from reading the source's state to saving it unchanged
            recorded = self.store.record(candidates, revise=revise, notifiers=self.owed_to(), listed=[],
                                         state=self.store.source_state(source.name), seen_at=now)
            self.store.mark_pages_checked([stored.id for stored, _ in due], now)
        _count(report, recorded)
        if report.updated or report.article_errors:
            log.info("source %s: %d page(s) re-checked for edits: %d edited, %d alert(s), %d failed", source.name,
                     len(due), report.updated, len(report.alerts), len(report.article_errors),
                     extra={"source": source.name})
        return report

    @staticmethod
    def _log_skipped(source: SourceConfig, report: PollReport) -> None:
        """One line for the items of a poll that were not recorded, by reason (also counted in metrics)."""
        if report.skipped:
            why = ", ".join(f"{count} {SKIP_REASONS[reason]}" for reason, count in report.skipped.items())
            log.info("source %s: skipped %d item(s): %s", source.name, report.skipped.total(), why,
                     extra={"source": source.name})

    async def _with_page(self, source: SourceConfig, parsed: Parsed, report: PollReport) -> Parsed | None:
        """The item with its page's body, canonical URL and missing fields filled in; None if the page failed
        (counted in the report: one page's failure is its own, the source's other items go on)."""
        item = parsed.article
        try:
            page = await self.fetcher.fetch(
                item.url, headers=source.headers, headers_for=str(source.url), guard=not source.allow_private
            )
            info = await self.workers.extract(page.content, page.final_url, source.article_selector, page.charset)
            report.bodies.append(len(info.body))
        except Exception as exc:
            error = describe(exc)
            if isinstance(exc, AddressRefused):
                error += f" (set allow_private: true on source {source.name} to follow links to such addresses)"
            report.article_errors.append(f"{item.url}: {error}")
            log.warning("source %s: article %s not fetched: %s", source.name, item.url, error,
                        exc_info=traced(exc), extra={"source": source.name})
            return None
        article, cut = clipped(
            replace(
                item,
                url=info.canonical_url or item.url,
                title=item.title or info.title,
                body=info.body,
                published=item.published or info.published,
                language=item.language or info.language,
                id="",
                content_hash="",
            )
        )
        return Parsed(article, parsed.entry, None, parsed.cut or cut)

    @staticmethod
    def _candidate(parsed: Parsed, analysis: Analysis, stored: StoredArticle | None, now: datetime) -> Candidate:
        """An item for the store to record; long enough texts may be copies of an article of the last day."""
        article = parsed.article
        long_enough = len(article.text.split()) >= MIN_WORDS_FOR_NEAR_DUPLICATE
        return Candidate(
            article,
            parsed.entry,
            analysis.fingerprint,
            analysis.matches,
            copy_since=now - NEAR_DUPLICATE_WINDOW if long_enough else None,
            stored_id=stored.id if stored else None,
        )

    @staticmethod
    def _revise(matcher: Matcher, candidate: Candidate, stored: StoredArticle) -> Revision:
        """An edit alerts only on what it added, once per watch list (of those its source names)."""
        article = candidate.article
        added = diff.added_sentences(stored.text, article.text)
        hits = matcher.match("", "\n".join(added), article.language) if added else []
        return Revision(added, [m for m in hits if m.watchlist not in stored.alerted])


def _windows(now: datetime) -> list[datetime]:
    """The starts of cadence.WINDOWS at `now`, shortest window first."""
    return [now - timedelta(seconds=w) for w in WINDOWS]


def _count(report: PollReport, recorded: Sequence[Recorded]) -> None:
    """Add what the store recorded to the report."""
    for outcome in recorded:
        report.new += outcome.kind == "new"
        report.updated += outcome.kind == "updated"
        report.matched.extend(m.watchlist for m in outcome.matches)
        report.alerts.extend(outcome.alerts)


def traced(exc: Exception) -> bool:
    """Whether a log line about `exc` carries its traceback: for an unexpected exception, at DEBUG level only."""
    return not isinstance(exc, MonitorError) and log.isEnabledFor(logging.DEBUG)


def describe(exc: Exception) -> str:
    """An error as one line: the message of the monitor's own errors, the class and message of anything else."""
    if isinstance(exc, MonitorError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
