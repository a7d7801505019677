"""Small typed records passed between pipeline stages, and the pure helpers they are made with.

Pure: imports nothing of ours but the error classes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from monitor.errors import NoLinks, Unreachable

AlertKind = Literal["new", "updated"]
DEFAULT_THRESHOLD = 0.5  # watch-list relevance: the probability a candidate needs to be a story about the subject
DISABLED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)  # next_due of a source that is gone (HTTP 410)


def content_hash(title: str, body: str) -> str:
    """Hash of the text that matters for change detection (whitespace- and NFC-normalised)."""
    norm = " ".join(unicodedata.normalize("NFC", f"{title}\n{body}").split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def article_id(canonical_url: str) -> str:
    """Stable article id derived from its canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:24]


def parse_datetime(value: str) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC); None if it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """A datetime as sortable ISO-8601 UTC text with microseconds (naive means UTC): parse_datetime reads it back."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Article:
    """One news item, normalised the same way whatever source kind produced it."""

    url: str  # canonical URL (fragment and tracking parameters removed)
    source: str  # name of the configured source
    title: str
    summary: str = ""
    body: str = ""  # extracted article text; empty when the page was not fetched
    published: datetime | None = None  # timezone-aware UTC
    updated: datetime | None = None  # timezone-aware UTC
    language: str | None = None
    guid: str | None = None  # feed GUID / Atom id, when the feed has one
    id: str = field(default="")
    content_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", article_id(self.url))
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.title, self.text))

    @property
    def text(self) -> str:
        """The body when there is one, else the feed summary: what watch lists read as `body:`."""
        return self.body or self.summary


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the fetcher got for one URL."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str | None = None  # declared in the Content-Type header
    etag: str | None = None
    last_modified: str | None = None
    max_age: float | None = None  # seconds of `Cache-Control: max-age`

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers about a source between polls."""

    name: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    error_count: int = 0
    next_due: datetime | None = None
    interval: float | None = None  # seconds until the poll after the last one (adaptive polling, or backoff)
    interval_reason: str | None = None  # why that interval

    @property
    def disabled(self) -> bool:
        """Taken out of the schedule for good (the pipeline does it on HTTP 410) until its config changes."""
        return self.next_due is not None and self.next_due >= DISABLED_UNTIL


@dataclass(frozen=True, slots=True)
class Match:
    """A watch list matched an article (or the text an edit added to it)."""

    watchlist: str
    query: str  # the query text that matched
    terms: tuple[str, ...]  # the words of the text that satisfied the query's terms
    snippet: str  # the sentence(s) around the first strong match
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert owed to notifiers: one article (or edit) matched one watch list."""

    id: int
    article_id: str
    watchlist: str
    kind: AlertKind
    title: str
    url: str
    source: str
    published: datetime | None
    terms: tuple[str, ...]
    snippet: str
    created: datetime
    added: tuple[str, ...] = ()  # for "updated" alerts: the sentences the edit added
    also_in: tuple[str, ...] = ()  # other outlets that ran the same story


@dataclass
class PollReport:
    """What one poll of one source did."""

    source: str
    status: int | None = None
    items: int = 0
    new: int = 0
    updated: int = 0
    alerts: list[Alert] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # watch list of each match on new or edited text
    error: str | None = None
    error_type: str | None = None  # class name of the error (FetchError, ParseError, or what crashed the poll)
    crashed: bool = False  # the error was not one the monitor raises on purpose (a bug, or a malformed input)
    article_errors: list[str] = field(default_factory=list)  # "URL: error" of each article page not fetched
    skipped: Counter[str] = field(default_factory=Counter)  # items not recorded, by reason (see pipeline.SKIP_REASONS)
    next_poll: float | None = None  # seconds until the source's next poll; None: as scheduled
    bodies: list[int] = field(default_factory=list)  # characters of each article body extracted (fetch_article)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def unreachable(self) -> bool:
        """The poll failed without a connection (name not resolved, refused, connect timeout)."""
        return self.error_type == Unreachable.__name__

    @property
    def listing_empty(self) -> bool:
        """The poll read an `html` listing on which its `link_selector` matched nothing."""
        return self.error_type == NoLinks.__name__


@dataclass(frozen=True, slots=True)
class WatchList:
    """A named set of queries; an article matches when a query matches and no exclusion does."""

    name: str
    queries: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    description: str = ""
    threshold: float = DEFAULT_THRESHOLD  # minimal relevance probability for a match to count (see monitor.query)
    model: str | None = None  # relevance model file (None: the shipped one, monitor/query/relevance-model.json)
