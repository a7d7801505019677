"""`Pipeline.poll(source)`: fetch, parse, extract, diff/dedupe, match, record alerts — in that order.

No global state: the store, fetcher, matcher and notifier names are handed in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor import diff
from monitor.config import FetchConfig, SourceConfig
from monitor.errors import FetchError, ParseError
from monitor.extract import extract_page
from monitor.fetch import Fetcher
from monitor.query import Matcher
from monitor.records import Alert, AlertKind, Article, SourceState
from monitor.retry import backoff
from monitor.sources import SOURCE_KINDS
from monitor.store import Store, StoredArticle

log = logging.getLogger(__name__)

NEAR_DUPLICATE_WINDOW = timedelta(hours=24)
YIELD_EVERY = 50  # items handled between two yields to the event loop
MAX_TEXT_CHARS = 200_000  # longer summaries and bodies are cut (a long read is ~50,000 characters)
DISABLED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)  # next_due of a source that is gone (HTTP 410)
MIN_WORDS_FOR_NEAR_DUPLICATE = 40  # short teasers are too alike to call duplicates


@dataclass
class PollReport:
    """What one poll of one source did."""

    source: str
    status: int | None = None
    items: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    alerts: list[Alert] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # watch list of each match on new or edited text
    error: str | None = None
    error_type: str | None = None  # class name of the error (FetchError, ParseError)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def entry_hash(item: Article) -> str:
    """Fingerprint of a feed entry as the feed shows it: a change means the page may have changed."""
    stamp = item.updated.isoformat() if item.updated else ""
    return hashlib.sha256(f"{item.title}\n{item.summary}\n{stamp}".encode()).hexdigest()[:32]


class Pipeline:
    """Runs one source through every stage; safe to call concurrently for different sources."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        matcher: Matcher,
        notifiers: Sequence[str],
        fetch_config: FetchConfig | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.matcher = matcher
        self.notifiers = tuple(notifiers)
        self.fetch_config = fetch_config or FetchConfig.model_validate({})
        self.ignore_before: datetime | None = None  # retention pruned up to here: older items must not alert again

    async def poll(self, source: SourceConfig, interval: float, now: datetime | None = None) -> PollReport:
        """Poll one source once; never raises for a source's own failure (it is recorded and backed off)."""
        now = now or datetime.now(UTC)
        report = PollReport(source.name)
        state = self.store.source_state(source.name)
        try:
            result = await self.fetcher.fetch(
                str(source.url), etag=state.etag, last_modified=state.last_modified, headers=source.headers
            )
            report.status = result.status
            if not result.not_modified:
                items = await asyncio.to_thread(  # a big document must not stall the other sources
                    SOURCE_KINDS[source.kind].parse,
                    result, source=source.name, language=source.language, options=_kind_options(source),
                )
                report.items = len(items)
                await self._process(source, items, report, now)
        except (FetchError, ParseError) as exc:
            report.error = str(exc) or type(exc).__name__
            report.error_type = type(exc).__name__
            if isinstance(exc, FetchError) and exc.status is not None:
                report.status = exc.status
            self._record_failure(state, exc, now)
            log.warning("source %s failed: %s", source.name, report.error, extra={"source": source.name})
            return report
        self.store.save_source_state(
            replace(
                state,
                etag=result.etag or state.etag,
                last_modified=result.last_modified or state.last_modified,
                last_fetch=now,
                last_success=now,
                last_status=result.status,
                last_error=None,
                error_count=0,
                next_due=now + timedelta(seconds=interval),
            )
        )
        return report

    def _record_failure(self, state: SourceState, exc: Exception, now: datetime) -> None:
        errors = state.error_count + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        delay = backoff(errors, retry_after, self.fetch_config.backoff_base, self.fetch_config.backoff_cap)
        due, error = now + timedelta(seconds=delay), str(exc) or type(exc).__name__
        if isinstance(exc, FetchError) and exc.status == 410:  # gone for good: stop polling until the config changes
            due, error = DISABLED_UNTIL, f"{error}: source disabled until its config changes"
            log.error("source %s disabled: %s", state.name, exc, extra={"source": state.name})
        self.store.save_source_state(
            replace(
                state,
                last_fetch=now,
                last_status=exc.status if isinstance(exc, FetchError) else state.last_status,
                last_error=error,
                error_count=errors,
                next_due=due,
            )
        )

    async def _process(self, source: SourceConfig, items: list[Article], report: PollReport, now: datetime) -> None:
        seen: set[str] = set()
        todo: list[tuple[Article, StoredArticle | None, str]] = []
        cutoff = self.ignore_before
        for n, item in enumerate(items, 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let other sources, deliveries and /healthz run between items
            if item.id in seen or (cutoff and item.published and item.published < cutoff):
                continue
            seen.add(item.id)
            stored = self.store.find_article(item.id, item.guid)
            entry = entry_hash(item)
            if stored is None or stored.entry_hash != entry:
                todo.append((item, stored, entry))
        if source.fetch_article:
            todo = todo[: source.max_articles]
            articles = await asyncio.gather(*(self._with_page(source, item) for item, _, _ in todo))
        else:
            articles = [item for item, _, _ in todo]
        ready = [(a, stored, entry) for (_, stored, entry), a in zip(todo, articles, strict=True) if a is not None]
        for start in range(0, len(ready), YIELD_EVERY):
            with self.store.transaction():  # one commit per batch; no await inside a transaction
                for article, stored, entry in ready[start : start + YIELD_EVERY]:
                    self._record(_clipped(article, source.name), entry, stored, report, now)
            await asyncio.sleep(0)  # let other sources, deliveries and /healthz run between batches

    async def _with_page(self, source: SourceConfig, item: Article) -> Article | None:
        """The item with its page's body, canonical URL and missing fields filled in; None if the page failed."""
        try:
            page = await self.fetcher.fetch(item.url, headers=source.headers, guard=not source.allow_private)
            info = await asyncio.to_thread(
                extract_page, page.content, page.final_url, source.article_selector, page.charset
            )
        except FetchError as exc:
            log.warning("source %s: article %s not fetched: %s", source.name, item.url, exc)
            return None
        return replace(
            item,
            url=info.canonical_url or item.url,
            title=item.title or info.title,
            body=info.body,
            published=item.published or info.published,
            language=item.language or info.language,
            id="",
            content_hash="",
        )

    def _record(
        self, article: Article, entry: str, stored: StoredArticle | None, report: PollReport, now: datetime
    ) -> None:
        # look again inside the transaction: another source, or an earlier item of this poll, may have
        # recorded the same article since the pre-check in _process
        if stored is None or stored.id != article.id:
            stored = self.store.find_article(article.id, article.guid) or stored
        if stored is not None and stored.content_hash == article.content_hash:
            self.store.touch_article(stored.id, entry, now)
            return
        fingerprint = diff.fingerprint(article.text)
        kind: AlertKind = "new"
        added: list[str] = []
        duplicate_of = None
        if stored is not None:  # edited: only what the edit added can alert, once per watch list
            kind, added = "updated", diff.added_sentences(stored.text, article.text)
            hits = self.matcher.match("", "\n".join(added), article.language) if added else []
            matches = [m for m in hits if m.watchlist not in stored.alerted]
            report.updated += 1
        else:
            matches = self.matcher.match(article.title, article.text, article.language)
            if len(article.text.split()) >= MIN_WORDS_FOR_NEAR_DUPLICATE:
                original = self.store.find_near_duplicate(fingerprint, now - NEAR_DUPLICATE_WINDOW, article.id)
                # a copy that matches a watch list its original did not alert on is not a duplicate to it
                if original and all(m.watchlist in original.alerted for m in matches):
                    duplicate_of, matches = original.id, []
            report.duplicates += duplicate_of is not None
            report.new += duplicate_of is None
        alerts = self.store.save_article(
            article,
            fingerprint=fingerprint,
            kind=kind,
            matches=matches,
            notifiers=self.notifiers,
            added=added,
            duplicate_of=duplicate_of,
            stored_id=stored.id if stored else None,
            entry_hash=entry,
        )
        report.matched.extend(m.watchlist for m in matches)
        report.alerts.extend(alerts)


def _clipped(article: Article, source: str) -> Article:
    """The article with its summary and body cut to MAX_TEXT_CHARS each (matching megabytes stalls the loop)."""
    if len(article.summary) <= MAX_TEXT_CHARS and len(article.body) <= MAX_TEXT_CHARS:
        return article
    log.warning("source %s: article %s text cut to %d characters", source, article.url, MAX_TEXT_CHARS,
                extra={"source": source, "article": article.id})
    cut = MAX_TEXT_CHARS
    return replace(article, summary=article.summary[:cut], body=article.body[:cut], content_hash="")


def _kind_options(source: SourceConfig) -> dict[str, object]:
    """The options a source kind reads (html: link_selector, title_selector, same_site)."""
    options = {"link_selector": source.link_selector, "title_selector": source.title_selector}
    return {k: v for k, v in options.items() if v} | ({"same_site": True} if source.same_site else {})
