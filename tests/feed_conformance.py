"""The monitor's feed items beside feedparser's, field by field, for the conformance test and for figures.

feedparser's side is read from its own entries (`feedparser.parse` of the file's bytes, no base URL given, so it
copies no id into a link by resolving it), normalised only as the monitor's policy says an item is normalised:
a link is an http(s) URL (resolved against the feed's URL, canonical), an id is a link only when feedparser says
so and it is an absolute http(s) URL, a text typed plain is itself and one typed as markup is the text of its
HTML (Python's html.parser via BeautifulSoup, not the monitor's lxml), the item's text is the longest of its
summary and contents, the language is the item's or the feed's. Texts are compared without their whitespace:
where a parser puts spaces between blocks is not what either reads.

    python -m tests.feed_conformance DIR...   # the differences in every .xml file under DIR, counted by field
"""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from monitor.errors import ParseError
from monitor.records import FetchResult
from monitor.sources.text import clean_text
from monitor.urls import canonical_url

FIELDS = ("title", "link", "guid", "published", "updated", "text", "language")
MARKUP = frozenset({"text/html", "application/xhtml+xml"})
Fields = dict[str, Any]


@dataclass(frozen=True)
class Difference:
    """One field of one entry where the monitor and feedparser differ (`entry` -1: whether the document is a feed,
    or the number of entries)."""

    file: str
    entry: int
    field: str
    ours: Any
    theirs: Any

    def __str__(self) -> str:
        return f"{self.file} #{self.entry} {self.field}: ours {self.ours!r}, feedparser {self.theirs!r}"


def feed_url(name: str) -> str:
    """The address a corpus file is parsed as coming from."""
    return "http://feeds.example/" + name


def theirs(content: bytes, url: str) -> list[Fields] | None:
    """feedparser's entries, normalised as above; None when it finds no feed (no entries, no version, no channel)."""
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and not parsed.version and not parsed.feed:
        return None
    language = parsed.feed.get("language")
    return [_their_entry(entry, url, language) for entry in parsed.entries]


def _their_entry(entry: Mapping[str, Any], url: str, feed_language: str | None) -> Fields:
    link = entry.get("link")
    guid = entry.get("id")
    if link is not None and link == guid and not guid.lower().startswith(("http://", "https://")):
        link = None  # an id that is not a URL, copied into the link
    texts = [(entry.get("summary"), entry.get("summary_detail")), *((c["value"], c) for c in entry.get("content", []))]
    details = [d for d in (entry.get("title_detail"), entry.get("summary_detail")) if d]
    return {
        "title": _text(entry.get("title"), entry.get("title_detail")),
        "link": _web(link, url),
        "guid": guid.strip() or None if isinstance(guid, str) else None,
        "published": _when(entry.get("published_parsed")),
        "updated": _when(entry.get("updated_parsed")),
        "text": max((_text(value, detail) for value, detail in texts), key=len),
        "language": next((d["language"] for d in details if d.get("language")), None) or feed_language,
    }


def _text(value: str | None, detail: Mapping[str, Any] | None) -> str:
    """feedparser's value of a field (not its detail's: that can be a nested element's) by the detail's type."""
    if not value or not detail:  # no detail: a summary copied from a content, which is read
        return ""
    if detail.get("type") in MARKUP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            value = BeautifulSoup(value, "html.parser").get_text()
    return clean_text(value)


def _web(link: str | None, url: str) -> str | None:
    if not link:
        return None
    absolute = canonical_url(link.strip(), url)
    return absolute if absolute.startswith(("http://", "https://")) else None


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    year, month, day, hour, minute, second = value[:6]
    when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return when if when > datetime(1970, 1, 2, tzinfo=UTC) else None


def ours(content: bytes, url: str) -> list[Fields] | None:
    """The monitor's items, as `monitor parse --json` prints them; None for a document it refuses (ParseError)."""
    from monitor.sources.feed import feed_items

    try:
        items = feed_items(FetchResult(url=url, final_url=url, status=200, content=content), source="conformance")
    except ParseError:
        return None
    return [{field: getattr(item, field) for field in FIELDS} for item in items]


def squeezed(value: Any) -> Any:
    """A text without its whitespace (other values as they are)."""
    return "".join(value.split()) if isinstance(value, str) else value


def differences(
    name: str, content: bytes, reader: Callable[[bytes, str], list[Fields] | None] = ours
) -> list[Difference]:
    """The fields in which the monitor's items of one file differ from feedparser's."""
    url = feed_url(name)
    mine, reference = reader(content, url), theirs(content, url)
    if mine is None or reference is None:
        return [] if mine is reference else [Difference(name, -1, "feed", mine is not None, reference is not None)]
    if len(mine) != len(reference):
        return [Difference(name, -1, "entries", len(mine), len(reference))]
    return [
        Difference(name, index, field, a[field], b[field])
        for index, (a, b) in enumerate(zip(mine, reference, strict=True))
        for field in FIELDS
        if squeezed(a[field]) != squeezed(b[field])
    ]


def corpus(folders: Iterable[Path]) -> list[tuple[str, Path]]:
    """Every .xml file under the folders, named by its path below the folder."""
    return sorted((p.relative_to(folder).as_posix(), p) for folder in folders for p in folder.rglob("*.xml"))


def main(argv: list[str]) -> int:
    found = [d for name, path in corpus(map(Path, argv)) for d in differences(name, path.read_bytes())]
    for difference in found:
        print(difference)
    print(f"{len(found)} differences: {dict(Counter(d.field for d in found))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
