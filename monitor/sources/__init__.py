"""Source kinds, registered under the name the config uses (`kind: feed`, `kind: html`).

A kind turns a fetched document into `Article` records; fetching itself is the fetcher's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def register(name: str) -> Callable[[K], K]:
    """Class decorator: register an instance of the class as source kind `name`."""

    def add(cls: K) -> K:
        SOURCE_KINDS[name] = cls()
        return cls

    return add
