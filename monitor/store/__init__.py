"""Storage behind one interface. Only this package speaks SQL; `open_store` opens the store the settings select
(`SqliteStore`, the embedded default, or `PostgresStore` when a database URL is set)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, Literal

from monitor.errors import StorageError
from monitor.records import Alert, AlertKind, Article, Match, SourceState

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.store.retention import PruneReport

RECENT_ENTRIES = 500  # a source's newest articles whose feed entries a poll recognises before analysing
SEEN_RESOLUTION = timedelta(hours=1)  # an article's last_seen lags its latest listing by at most this
# What is owed, one row per delivery, on both stores: the outbox's and the Telegram notifiers' per-chat ones
# (a Telegram notifier's outbox row is done once the alert is fanned out to its chats).
OWED = (
    "SELECT notifier FROM outbox WHERE status = 'owed'"
    " UNION ALL SELECT notifier FROM tg_deliveries WHERE status = 'owed'"
)


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
    fingerprint: int  # 64-bit SimHash of the text (see monitor.fingerprint.fingerprint)
    first_seen: datetime
    alerted: frozenset[str]  # watch lists that already alerted on this article
    entry_hash: str = ""  # the feed entry as last seen (pipeline.entry_hash); a change means re-read the page
    duplicate_of: str | None = None  # the original this article is a syndicated copy of


@dataclass(frozen=True, slots=True)
class Candidate:
    """A feed item for `Store.record`: the article as read, its feed entry, and what analysing its text found."""

    article: Article
    entry_hash: str
    fingerprint: int
    matches: Sequence[Match]  # on the whole text: what the article alerts on when it is new
    copy_since: datetime | None = None  # a new article may be a copy of an original first seen since (None: never)
    stored_id: str | None = None  # the stored article meant when the id and GUID lead to none (found before)


@dataclass(frozen=True, slots=True)
class Revision:
    """What an edit of a stored article alerts on: the sentences it added, and the matches to alert on."""

    added: Sequence[str]
    matches: Sequence[Match]


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `Store.record` did with one candidate, and the alerts it made."""

    kind: Literal["unchanged", "new", "copy", "updated"]
    matches: Sequence[Match]  # the matches that could alert (none for an unchanged article or a copy)
    alerts: list[Alert]


def open_store(settings: Settings, *, in_memory: bool = False) -> Store:
    """The store the settings select, open and migrated: PostgreSQL at `settings.database_url` when it is set, else
    SQLite at `settings.db_path`; `in_memory`: an empty SQLite one that touches no database."""
    url = None if in_memory else settings.database_url
    if url:
        _require_psycopg()
        from monitor.store.postgres import PostgresStore

        return PostgresStore(url)
    from monitor.store.sqlite import SqliteStore

    return SqliteStore(":memory:" if in_memory else settings.db_path)


def storage_state(settings: Settings) -> str:
    """Which store the settings select and whether it can be opened: for PostgreSQL, whether its database is
    reachable and migrated; for SQLite, whether its file is a database (read only, never created). StorageError
    when it cannot be."""
    url = settings.database_url
    if not url:
        from monitor.store.sqlite import file_state

        return f"SQLite at {settings.db_path}: {file_state(settings.db_path)}"
    _require_psycopg()
    from monitor.store.postgres import describe, migration_state

    return f"PostgreSQL at {describe(url)}: {migration_state(url)}"


def _require_psycopg() -> None:
    if find_spec("psycopg") is None or find_spec("psycopg_pool") is None:
        raise StorageError("the store is on PostgreSQL (storage.url or $MONITOR_DATABASE_URL), whose driver is not"
                           " installed: install the postgres extra (pip install 'ceasefire-monitor[postgres]')")


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

    @abstractmethod
    def new_items(self, source: str, since: Sequence[datetime]) -> list[int]:
        """For each of `since`, the source's articles that arrived then or later: published then, or first seen
        then when undated or dated after they were first seen (the entry frequency of adaptive polling)."""

    def poll_state(self, name: str, since: Sequence[datetime]) -> tuple[SourceState, list[int] | None]:
        """What a poll starts from: `source_state(name)` and, where the same look-up gives them at no extra round
        trip (PostgreSQL), `new_items(name, since)`; None: the poll asks `new_items` when it needs them."""
        return self.source_state(name), None

    async def poll_state_async(self, name: str, since: Sequence[datetime]) -> tuple[SourceState, list[int] | None]:
        """`poll_state`, without blocking the event loop where the store can (PostgreSQL in an engine process)."""
        return self.poll_state(name, since)

    async def save_source_state_async(self, state: SourceState) -> None:
        """`save_source_state`, without blocking the event loop where the store can (as `poll_state_async`)."""
        self.save_source_state(state)

    # source health (`monitor.sourcehealth`)
    @abstractmethod
    def health_states(self) -> dict[str, dict[str, Any]]:
        """Every source-health state kept, by key (a source's name, or "" for what concerns them all)."""

    @abstractmethod
    def save_health_state(self, key: str, state: dict[str, Any] | None) -> None:
        """Keep one source-health state (JSON-able), replacing the one kept; None forgets it."""

    # articles
    @abstractmethod
    def find_articles(self, keys: Sequence[tuple[str, str | None]]) -> list[StoredArticle | None]:
        """For each (id, GUID), as `find_article`, in one look-up."""

    def find_article(self, article_id: str, guid: str | None = None) -> StoredArticle | None:
        """The article with this id (canonical URL), an id alias, this feed GUID, or a GUID alias, in that order."""
        return self.find_articles([(article_id, guid)])[0]

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
    def record(
        self,
        candidates: Sequence[Candidate],
        *,
        revise: Callable[[Candidate, StoredArticle], Revision],
        notifiers: Sequence[str],
        listed: Sequence[str],
        state: SourceState,
        seen_at: datetime,
    ) -> list[Recorded]:
        """Record what one document brought, in one transaction, and return what became of each candidate.

        Each candidate is looked up inside the transaction (after the ones before it; by its id and GUID as in
        `find_article`, else its `stored_id`), then:
        - stored with the same content: unchanged; its feed entry and `seen_at` are remembered;
        - stored with other content: an edit, saved as `save_article` with kind "updated" and what
          `revise(candidate, stored)` says it added and alerts on;
        - not stored: new; with `copy_since`, the near duplicate first seen since then (`find_near_duplicate`)
          that alerted on every watch list the candidate matches makes it a copy of that original
          (`duplicate_of`), else it alerts on its matches.
        Alerts are owed to every notifier named. Stored articles of `listed` (listed again, entries unchanged)
        were seen at `seen_at`, written only where last_seen is older than SEEN_RESOLUTION (an unchanged feed
        costs no writes); the source's `state` is saved with the rest.
        """

    @abstractmethod
    def pages_to_recheck(
        self, sources: Sequence[str], alerted_since: datetime, checked_before: datetime, limit: int
    ) -> list[tuple[StoredArticle, str]]:
        """Articles of `sources` (not copies) that first alerted at or after `alerted_since` and whose page was last
        checked for edits (never checked: first alerted) before `checked_before`, the longest unchecked first, each
        with the address to read its page at (`save_page_urls`, else its URL)."""

    @abstractmethod
    def save_page_urls(self, urls: Mapping[str, str]) -> None:
        """The address each article's page was read at (by id), where it is not the article's canonical URL."""

    @abstractmethod
    def mark_pages_checked(self, ids: Sequence[str], at: datetime) -> None:
        """The pages of these articles were checked for edits at `at` (see `pages_to_recheck`)."""

    @abstractmethod
    def prune(self, older_than: datetime) -> PruneReport:
        """Retention (see `monitor.store.retention`): remove what is older than `older_than`, in short transactions
        on a connection of its own, so another thread may run it while the store is in use."""

    # outbox
    @abstractmethod
    def alert(self, alert_id: int) -> Alert: ...

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
    def redeliver(self, since: datetime, notifier: str | None = None) -> tuple[int, int]:
        """Make the deliveries given up on at or after `since` (to `notifier`, or to any) owed again, as new:
        how many of the outbox's and how many of Telegram's per-chat deliveries."""

    @abstractmethod
    def outbox_depth(self, notifier: str | None = None) -> int:
        """Deliveries owed (to one notifier, or to all): the outbox's and Telegram's per-chat ones."""

    @abstractmethod
    def owed_by_notifier(self) -> dict[str, int]:
        """Deliveries owed (the outbox's and Telegram's per-chat ones), by the notifier they are owed to (only
        those owed some)."""

    @abstractmethod
    def oldest_owed(self) -> datetime | None: ...

    @abstractmethod
    def recent_alerts(
        self, limit: int = 5, watchlists: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[Alert]:
        """The newest alerts first, of `watchlists` (None: all) and created at or after `since` (None: ever)."""

    @abstractmethod
    def stats_since(self, since: datetime) -> dict[str, int]:
        """Alerts created at or after `since`, per watch list."""

    @abstractmethod
    def alerts_per_day(self, since: datetime) -> dict[tuple[str, date], int]:
        """Alerts created at or after `since`, per (watch list, UTC day); days without alerts are left out."""
