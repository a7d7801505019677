"""Source kinds, registered under the name the config uses (`kind: feed`, `kind: html`).

A kind turns a fetched document into `Article` records; fetching itself is the fetcher's job. A document
gives at most `MAX_ITEMS` of them (its first ones): memory and work stay bounded whatever it lists. A kind
owns its config keys: its `options` model says which keys a source of the kind may have besides the common
ones, and the config is checked against it when loaded. A new kind is a module that registers itself, and
its entry in `SOURCE_KINDS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from monitor.errors import ParseError
from monitor.records import Article, FetchResult
from monitor.registry import Registry


class SourceOptions(BaseModel):
    """The options of a source kind (the keys of its own); as is, a kind that has none. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(Protocol):
    """Parses one fetched document of its kind into articles; raises ParseError when it cannot.

    `options` is the kind's model of its keys; `parse` is given them as the config has them.
    """

    @property
    def options(self) -> type[SourceOptions]: ...

    def parse(
        self,
        result: FetchResult,
        *,
        source: str,
        language: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[Article]: ...


SOURCE_KINDS: Registry[SourceKind] = Registry("source", {"feed": "monitor.sources", "html": "monitor.sources.html"})

K = TypeVar("K", bound=type)
Options = TypeVar("Options", bound=SourceOptions)
T = TypeVar("T")
MAX_ITEMS = 1_000  # items (feed entries, listing links) read from one document; the rest are ignored
log = logging.getLogger(__name__)


def register(name: str) -> Callable[[K], K]:
    """Class decorator: register an instance of the class as source kind `name`."""

    def add(cls: K) -> K:
        SOURCE_KINDS[name] = cls()
        return cls

    return add


def read_options(model: type[Options], options: Mapping[str, Any] | None, source: str) -> Options:
    """A kind's `options` read by its model; ParseError naming the source and the keys that are wrong."""
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        raise ParseError(f"source {source}: {'; '.join(map(_problem, exc.errors()))}") from None


def _problem(error: ErrorDetails) -> str:
    key = ".".join(map(str, error["loc"]))
    return f"needs {key}" if error["type"] == "missing" else f"{key}: {error['msg']}"


def first_items(items: Sequence[T], source: str, url: str) -> Sequence[T]:
    """The first `MAX_ITEMS` of a document's items (a warning when there are more)."""
    if len(items) > MAX_ITEMS:
        items_cut(source, url)
    return items[:MAX_ITEMS]


def items_cut(source: str, url: str) -> None:
    """Warn that the document at `url` lists more than `MAX_ITEMS` items and only the first are read."""
    log.warning("source %s: %s lists more than %d items; reading the first %d", source, url, MAX_ITEMS, MAX_ITEMS,
                extra={"source": source})


@register("feed")
class FeedKind:
    """A news feed (RSS, Atom, JSON Feed); each item becomes an Article with its link resolved against the
    feed's address. Its parser (monitor.sources.feed: lxml, feedparser, beautifulsoup4, 0.1 s to import) loads
    with the first feed parsed, not with the config: a cycle of 304s never needs it."""

    options = SourceOptions  # no keys of its own

    def parse(
        self,
        result: FetchResult,
        *,
        source: str,
        language: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[Article]:
        from monitor.sources.feed import feed_articles

        return feed_articles(result, source=source, language=language)
