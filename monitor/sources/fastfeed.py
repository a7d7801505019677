"""Feed items as both parsers give them, and a fast path for well-formed RSS 0.9x/1.0/2.0 and Atom 1.0.

The fast path reads the document with lxml, which takes a fraction of feedparser's CPU time (feed parsing
is most of the work of a poll cycle). Anything it is not sure of (XML that is not well-formed, other
roots, Atom 0.3, undeclared entities) returns None so that feedparser reads the document instead;
the tests check that both give the same items on the real feed corpus.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from feedparser.datetimes import _parse_date
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS = frozenset(
    {
        "",
        "http://backend.userland.com/rss2",
        "http://backend.userland.com/rss",
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
    }
)
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HTML_TYPES = frozenset({"", "text/html", "html", "application/xhtml+xml", "xhtml"})
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A feed item as any format gives it, before it becomes an Article (values not yet cleaned)."""

    link: Any
    guid: Any
    title: Any
    texts: list[Any]
    published: datetime | None
    updated: datetime | None
    language: Any


def from_struct(value: time.struct_time | None) -> datetime | None:
    """A UTC struct_time (as feedparser gives dates) as an aware datetime; None when absent or implausible."""
    if value is None:
        return None
    try:
        return plausible(datetime(*value[:6], tzinfo=UTC))
    except (TypeError, ValueError):
        return None


def plausible(when: datetime) -> datetime | None:
    """None for the Unix epoch and earlier: feeds write 0 when they have no date."""
    return when if when > EPOCH else None


def parse_simple(text: str, url: str) -> list[FeedItem] | None:
    """The items of a well-formed RSS or Atom 1.0 document; None when feedparser should read it."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, encoding="utf-8")
    try:
        root = etree.fromstring(text.encode("utf-8"), parser, base_url=url)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.getroottree().docinfo.internalDTD is not None:
        return None  # entities declared in the document: feedparser knows what to do with them
    ns, name = _split(root.tag)
    if name == "rss" and ns in RSS:
        channel = _first(root, RSS, "channel")
        return None if channel is None else _rss_items(channel, channel)
    if name == "RDF" and ns == RDF:
        channel = _first(root, RSS, "channel")
        return None if channel is None else _rss_items(root, channel)
    if name == "feed" and ns == ATOM:
        return [_atom_item(entry) for entry in _children(root, {ATOM}, "entry")]
    return None


def _rss_items(parent: etree._Element, channel: etree._Element) -> list[FeedItem]:
    language = _text(_first(channel, RSS, "language")) or _text(_first(channel, {DC}, "language"))
    return [_rss_item(item, language) for item in _children(parent, RSS, "item")]


def _rss_item(item: etree._Element, channel_language: str | None) -> FeedItem:
    link = _first(item, RSS, "link")
    href = _text(link)
    published = _date(_first(item, RSS, "pubDate")) or _date(_first(item, {DCTERMS}, "issued"))
    return FeedItem(
        link=_resolved(link, href) if link is not None and href else _atom_link(item),
        guid=_text(_first(item, RSS, "guid")) or item.get(f"{{{RDF}}}about"),
        title=_markup(_first(item, RSS, "title")),
        texts=[_markup(_first(item, RSS, "description")), _markup(_first(item, {CONTENT}, "encoded"))],
        published=published,
        # as feedparser does: the item's own update date, else its publication date
        updated=_first_date(item, ({DC}, "date"), ({DCTERMS}, "modified"), ({ATOM}, "updated")) or published,
        language=_language(item) or channel_language,
    )


def _atom_item(entry: etree._Element) -> FeedItem:
    return FeedItem(
        link=_atom_link(entry),
        guid=_text(_first(entry, {ATOM}, "id")),
        title=_markup(_first(entry, {ATOM}, "title")),
        texts=[_markup(_first(entry, {ATOM}, "summary")), _markup(_first(entry, {ATOM}, "content"))],
        published=_date(_first(entry, {ATOM}, "published")),
        updated=_date(_first(entry, {ATOM}, "updated")),
        language=_language(entry),
    )


def _atom_link(element: etree._Element) -> str | None:
    """The href of the first alternate HTML link, resolved against xml:base."""
    for link in _children(element, {ATOM}, "link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate" and link.get("type", "") in HTML_TYPES:
            return _resolved(link, href)
    return None


def _markup(element: etree._Element | None) -> str | None:
    """An Atom text construct as markup or text (its tags are dropped later)."""
    return None if element is None else _inner(element)


def _inner(element: etree._Element) -> str:
    """Text and child markup of an element: escaped HTML and inline (X)HTML both come out as markup."""
    children = (etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
    return (element.text or "") + "".join(children)


def _resolved(element: etree._Element, href: str) -> str:
    base = element.base
    return urljoin(base, href.strip()) if base else href


def _language(element: etree._Element) -> str | None:
    """xml:lang of the element or its nearest ancestor that has one."""
    for node in (element, *element.iterancestors()):
        lang = node.get(XML_LANG)
        if lang:
            return str(lang)
    return None


def _date(element: etree._Element | None) -> datetime | None:
    text = _text(element)
    return from_struct(_parse_date(text)) if text else None


def _first_date(element: etree._Element, *names: tuple[set[str], str]) -> datetime | None:
    return next((when for ns, name in names if (when := _date(_first(element, ns, name)))), None)


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _split(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _children(element: etree._Element, namespaces: Iterable[str], name: str) -> list[etree._Element]:
    wanted = {(ns, name) for ns in namespaces}
    return [child for child in element if _split(child.tag) in wanted]


def _first(element: etree._Element, namespaces: Iterable[str], name: str) -> etree._Element | None:
    found = _children(element, namespaces, name)
    return found[0] if found else None
