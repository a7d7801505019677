"""Source kinds, registered under the name the config uses (`kind: feed`, `kind: html`).

A kind turns a fetched document into `Article` records; fetching itself is the fetcher's job. A document
gives at most `MAX_ITEMS` of them (its first ones): memory and work stay bounded whatever it lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from monitor.records import Article, FetchResult
from monitor.registry import Registry


class SourceKind(Protocol):
    """Parses one fetched document of its kind into articles; raises ParseError when it cannot."""

    def parse(
        self,
        result: FetchResult,
        *,
        source: str,
        language: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[Article]: ...


SOURCE_KINDS: Registry[SourceKind] = Registry(
    "source", {"feed": "monitor.sources.feed", "html": "monitor.sources.html"}
)

K = TypeVar("K", bound=type)
T = TypeVar("T")
MAX_ITEMS = 1_000  # items (feed entries, listing links) read from one document; the rest are ignored
log = logging.getLogger(__name__)


def register(name: str) -> Callable[[K], K]:
    """Class decorator: register an instance of the class as source kind `name`."""

    def add(cls: K) -> K:
        SOURCE_KINDS[name] = cls()
        return cls

    return add


def first_items(items: Sequence[T], source: str, url: str) -> Sequence[T]:
    """The first `MAX_ITEMS` of a document's items (a warning when there are more)."""
    if len(items) > MAX_ITEMS:
        items_cut(source, url)
    return items[:MAX_ITEMS]


def items_cut(source: str, url: str) -> None:
    """Warn that the document at `url` lists more than `MAX_ITEMS` items and only the first are read."""
    log.warning("source %s: %s lists more than %d items; reading the first %d", source, url, MAX_ITEMS, MAX_ITEMS,
                extra={"source": source})
