"""Storage behind one interface. Only this package speaks SQL; `SqliteStore` is the embedded default."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.records import Alert, AlertKind, Article, Match, SourceState

RECENT_ENTRIES = 500  # a source's newest articles whose feed entries a poll recognises before analysing
SEEN_RESOLUTION = timedelta(hours=1)  # an article's last_seen lags its latest listing by at most this


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What the store knows of an article already seen."""

    id: str
    url: str
    source: str
    guid: str | None
    title: str
    text: str  # body, or summary when no body was fetched, of the latest version
    content_hash: str
    fingerprint: int  # 64-bit SimHash of the text (see monitor.diff.fingerprint)
    first_seen: datetime
    alerted: frozenset[str]  # watch lists that already alerted on this article
    entry_hash: str = ""  # the feed entry as last seen (pipeline.entry_hash); a change means re-read the page


class Store(ABC):
    """Source state, articles with versions, matches, and the outbox of alerts owed to notifiers.

    `faults` are the exceptions that mean the store itself failed (disk full, a damaged file), not what
    was asked of it: callers tell them from a source's or a notifier's errors.
    """

    faults: tuple[type[Exception], ...] = ()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]:
        """Group writes into one commit, rolled back on error; joins a transaction already open."""

    @abstractmethod
    def snapshot(self) -> Store:
        """An in-memory copy to run against without recording anything (`--dry-run`)."""

    # sources
    @abstractmethod
    def source_state(self, name: str) -> SourceState:
        """The stored state, or a fresh `SourceState(name)` for a source never polled."""

    @abstractmethod
    def save_source_state(self, state: SourceState) -> None: ...

    @abstractmethod
    def source_states(self) -> list[SourceState]: ...

    # articles
    @abstractmethod
    def find_article(self, article_id: str, guid: str | None = None) -> StoredArticle | None:
        """The article with this id (canonical URL), or else with this feed GUID."""

    @abstractmethod
    def recent_entry_hashes(self, source: str, limit: int = RECENT_ENTRIES) -> frozenset[str]:
        """Feed-entry hashes of the source's newest articles: entries a poll need not analyse again."""

    @abstractmethod
    def find_near_duplicate(self, fingerprint: int, since: datetime, exclude_id: str) -> StoredArticle | None:
        """An article that alerted, first seen at or after `since`, within the near-duplicate distance."""

    @abstractmethod
    def save_article(
        self,
        article: Article,
        *,
        fingerprint: int,
        kind: AlertKind,
        matches: Sequence[Match],
        notifiers: Sequence[str],
        added: Sequence[str] = (),
        duplicate_of: str | None = None,
        stored_id: str | None = None,
        entry_hash: str = "",
    ) -> list[Alert]:
        """Record an article version, its matches and the alerts they cause, in one transaction.

        `stored_id` is the id the article is already stored under (found by GUID) when it differs
        from `article.id`. With `duplicate_of`, the article is a syndicated copy: its outlet is added
        to `also_in` of the original's alerts and no alert is made. Otherwise one alert is made per
        match whose watch list has not alerted on the article yet, owed to every notifier named.
        """

    @abstractmethod
    def touch_article(self, article_id: str, entry_hash: str, seen_at: datetime) -> None:
        """The article was seen again unchanged: remember its feed entry and when it was seen."""

    @abstractmethod
    def mark_listed(self, article_ids: Sequence[str], seen_at: datetime) -> None:
        """A document listed these stored articles again, entries unchanged: they were seen at `seen_at`
        (written only where last_seen is older than SEEN_RESOLUTION, so an unchanged feed costs no writes)."""

    # outbox
    @abstractmethod
    def owed(self, notifier: str, now: datetime, limit: int = 100) -> list[Alert]:
        """Alerts owed to a notifier and due for a (re)try, oldest first."""

    @abstractmethod
    def attempts(self, alert_id: int, notifier: str) -> int:
        """How many failed delivery attempts this alert has had with this notifier."""

    @abstractmethod
    def mark_delivered(self, alert_id: int, notifier: str) -> None: ...

    @abstractmethod
    def strikes(self, alert_id: int, notifier: str) -> int:
        """How many of those failed attempts count towards the notifier's `max_attempts` (see `mark_retry`)."""

    @abstractmethod
    def mark_retry(
        self, alert_id: int, notifier: str, error: str, next_attempt: datetime, *, strike: bool = True
    ) -> None:
        """A failed attempt; `strike=False` when it does not count towards `max_attempts` (an outage)."""

    @abstractmethod
    def mark_failed(self, alert_id: int, notifier: str, error: str) -> None:
        """Give up on this delivery for good (a dead letter); it is no longer owed."""

    @abstractmethod
    def dead_letters(self, since: datetime) -> int:
        """Deliveries given up on at or after `since`, over every outbox the store keeps."""

    @abstractmethod
    def outbox_depth(self, notifier: str | None = None) -> int:
        """Deliveries owed (to one notifier, or to all)."""

    @abstractmethod
    def oldest_owed(self) -> datetime | None: ...

    @abstractmethod
    def recent_alerts(self, limit: int = 5, watchlists: Sequence[str] | None = None) -> list[Alert]: ...
