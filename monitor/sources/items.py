"""Feed items: what a feed wrote of each (`RawItem`, which both XML parser paths and the JSON Feed reader fill in)
and the one function that decides from it an item's link, GUID, title, dates and text (`decide`).

A text is markup or plain text as the feed's own type attribute says (Atom's `type`, feedparser's content types);
RSS states no types, so an RSS title or description is HTML when it looks like HTML (feedparser's test for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from feedparser.mixin import _FeedParserMixin

from monitor.sources.text import clean_text, html_to_text
from monitor.urls import canonical_url

MARKUP_TYPES = frozenset({"text/html", "application/xhtml+xml"})
WEB_SCHEMES = ("", "http", "https")


@dataclass(frozen=True, slots=True)
class Text:
    """An element's content and its type (`text/plain`, `text/html`, `application/xhtml+xml`, ...)."""

    value: str
    type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Link:
    """A link element: its address (resolved against xml:base), relation and media type."""

    href: str
    rel: str = "alternate"
    type: str = "text/html"


@dataclass(frozen=True, slots=True)
class RawItem:
    """A feed item as the feed wrote it, before `decide` (`typed`: its format states text types, RSS does not)."""

    links: list[Link]
    guid: str | None
    guid_is_link: bool  # an RSS guid without isPermaLink="false", an Atom or JSON Feed id
    title: Text | None
    texts: list[Text]
    published: datetime | None
    updated: datetime | None
    language: str | None
    typed: bool = True


@dataclass(frozen=True, slots=True)
class Item:
    """A feed item, normalised: plain-text title and text, the http(s) page it links to (None: it has none)."""

    title: str
    link: str | None
    guid: str | None
    published: datetime | None
    updated: datetime | None
    text: str
    language: str | None


def decide(raw: RawItem, base: str) -> Item:
    """The item `raw` describes, its relative links resolved against `base` (the feed's address).

    Its link is its first alternate HTML link that is a web address, else its GUID when that is a permalink written
    as an absolute http(s) URL (an id such as `42` is no address); its text is the longest of its texts.
    """
    guid = stripped(raw.guid)
    link = next((url for url in (web_url(a.href, base) for a in raw.links if _is_page(a)) if url), None)
    if link is None and guid is not None and raw.guid_is_link and guid.lower().startswith(("http://", "https://")):
        link = web_url(guid, base)
    return Item(
        title=_plain(raw.title, raw.typed) if raw.title else "",
        link=link,
        guid=guid,
        published=raw.published,
        updated=raw.updated,
        text=max((_plain(t, raw.typed) for t in raw.texts), key=len, default=""),
        language=stripped(raw.language),
    )


def _is_page(link: Link) -> bool:
    return link.rel == "alternate" and link.type in MARKUP_TYPES


def _plain(text: Text, typed: bool) -> str:
    """The plain text of a value: markup by its type, or (untyped RSS) by how it looks."""
    markup = text.type in MARKUP_TYPES or (
        not typed and text.type == "text/plain" and _FeedParserMixin.looks_like_html(text.value)
    )
    return html_to_text(text.value) if markup else clean_text(text.value)


def web_url(value: Any, base: str) -> str | None:
    """The canonical http(s) URL `value` points to (relative to `base`), or None."""
    text = stripped(value)
    try:
        if text is None or urlsplit(text).scheme.lower() not in WEB_SCHEMES:
            return None  # another scheme (tag:, urn:, mailto:) is not a page to read
    except ValueError:
        return None
    url = canonical_url(text, base)
    return url if url.startswith(("http://", "https://")) else None


def stripped(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None
