"""A fast path for well-formed RSS 0.9x/1.0/2.0 and Atom 1.0: each item as a `RawItem`, read as feedparser reads it.

The fast path reads the document with lxml, which takes a fraction of feedparser's CPU time (feed parsing
is most of the work of a poll cycle). Anything it is not sure of (XML that is not well-formed, other
roots, Atom 0.3, undeclared entities) returns None so that feedparser reads the document instead. An item's
elements mean what they mean to feedparser (`ROLES`: which elements give the title, the texts, links, GUID and
dates, and each text's default type); `items.decide` then makes both paths' items the same way. The tests check
that both give the same items on the real feed corpus and on feedparser's own test corpus.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urljoin

from feedparser.datetimes import _parse_date
from lxml import etree

from monitor.sources import MAX_ITEMS
from monitor.sources.items import Link, RawItem, Text

ATOM_NS = "http://www.w3.org/2005/Atom"
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
ATOM = frozenset({ATOM_NS})
# the namespaces whose elements feedparser reads as the feed format's own (it maps them all to no prefix)
BASE = RSS | ATOM | {"http://blogs.law.harvard.edu/tech/rss", "http://purl.org/rss/1.0/modules/rss091#"}
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
ITUNES = ("http://www.itunes.com/DTDs/PodCast-1.0.dtd", "http://example.com/DTDs/PodCast-1.0.dtd")
MEDIA = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)
PARSER_OPTIONS: dict[str, Any] = {"resolve_entities": False, "no_network": True, "load_dtd": False, "encoding": "utf-8"}
TYPE_NAMES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}


def _roles() -> dict[str, tuple[str, str]]:
    """What each child element of an item is to feedparser (role, default text type), by lower-cased lxml tag."""
    def tags(namespaces: Any, *names: str) -> list[str]:
        return [f"{{{ns}}}{name}".lower() if ns else name.lower() for ns in namespaces for name in names]

    roles: dict[str, tuple[str, str]] = {}
    for role, default, namespaces, names in (
        ("title", "text/plain", BASE, ("title",)),
        ("title", "text/plain", (DC,), ("title",)),
        ("media title", "text/plain", MEDIA, ("title",)),
        ("text", "text/html", BASE, ("description", "fullitem")),
        ("text", "text/html", (DC,), ("description",)),
        ("text", "text/html", (CONTENT,), ("encoded",)),
        ("text", "text/plain", BASE, ("summary", "abstract", "content")),
        ("text", "text/plain", ITUNES, ("summary",)),
        ("text", "application/xhtml+xml", (*BASE, XHTML), ("body",)),
        ("link", "", BASE, ("link",)),
        ("guid", "", BASE, ("guid", "id")),
        ("published", "", BASE, ("pubDate", "published", "issued")),
        ("published", "", (DCTERMS,), ("issued",)),
        ("updated", "", BASE, ("updated", "modified", "lastBuildDate")),
        ("updated", "", (DC,), ("date",)),
        ("updated", "", (DCTERMS,), ("modified",)),
    ):
        roles.update(dict.fromkeys(tags(namespaces, *names), (role, default)))
    return roles


ROLES = _roles()
LANGUAGE_TAGS = frozenset({"language", f"{{{DC}}}language"} | {f"{{{ns}}}language" for ns in RSS if ns})


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


def parse_simple(text: str, url: str, *, cut: bool = False) -> list[RawItem] | None:
    """The items (the first `MAX_ITEMS` + 1) of a well-formed RSS or Atom 1.0 document; None when feedparser
    should read it. Links are resolved against xml:base, else `url`.

    `cut`: the text stops before the document's end (just before an item), so its open elements stay open.
    """
    try:
        root = _root(text.encode("utf-8"), url, cut)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    if root.getroottree().docinfo.internalDTD is not None:
        return None  # entities declared in the document: feedparser knows what to do with them
    if root.tag in _tags(RSS, "rss") or root.tag == f"{{{RDF}}}RDF":
        channel = next(iter(_children(root, RSS, "channel")), None)
        if channel is None:
            return None
        parent = channel if root.tag in _tags(RSS, "rss") else root  # RSS 1.0: items are the channel's siblings
        language = next((_text(c) for c in channel if c.tag in LANGUAGE_TAGS and _text(c)), None)
        items = _children(parent, BASE, "item", "entry")[: MAX_ITEMS + 1]
        return [_item(item, typed=False, feed_language=language) for item in items]
    if root.tag == f"{{{ATOM_NS}}}feed":
        entries = _children(root, BASE, "item", "entry")[: MAX_ITEMS + 1]
        return [_item(entry, typed=True, feed_language=None) for entry in entries]
    return None


def _root(data: bytes, url: str, cut: bool) -> etree._Element | None:
    """The document's root element, every byte of it read (and checked); None for a cut text with no element."""
    if not cut:
        root: etree._Element = etree.fromstring(data, etree.XMLParser(**PARSER_OPTIONS), base_url=url)
        return root
    parser = etree.XMLPullParser(events=("start",), base_url=url, **PARSER_OPTIONS)  # no end needed, no end checked
    parser.feed(data)
    return next((element for _, element in parser.read_events()), None)


def _item(element: etree._Element, *, typed: bool, feed_language: str | None) -> RawItem:
    """An item's elements as feedparser takes them: its first non-empty title, every text, its last GUID and dates."""
    links: list[Link] = []
    texts: list[Text] = []
    title: Text | None = None
    titled = False
    guid, guid_is_link = element.get(f"{{{RDF}}}about"), False
    dates: dict[str, datetime | None] = {}
    for child in element:
        tag = child.tag
        role = ROLES.get(tag.lower()) if isinstance(tag, str) else None
        if role is None:
            continue
        kind, default = role
        if kind == "text":
            texts.append(_content(child, default))
        elif not titled and kind in ("title", "media title"):  # a media:title until a title says something
            title = _content(child, default)
            titled = kind == "title" and bool(title.value)
        elif kind == "link":
            links.extend(_link(child))
        elif kind == "guid":
            guid, guid_is_link = _guid(child)
        else:
            value = _text(child)
            dates[kind] = from_struct(_parse_date(value)) if value else None
    published = dates.get("published")
    return RawItem(
        links=links,
        guid=guid,
        guid_is_link=guid_is_link,
        title=title,
        texts=texts,
        published=published,
        updated=dates.get("updated") or published,  # as feedparser does: the update date, else the publication date
        language=_inherited(element, XML_LANG) or feed_language,
        typed=typed,
    )


def _content(element: etree._Element, default: str) -> Text:
    """An element's content as feedparser reads it: child elements make it XHTML, except a lone `<div>` around the
    escaped markup of a text typed otherwise; base64 when its type says so (Atom: neither text nor XML)."""
    kind = _attribute(element, "type") or default
    kind = TYPE_NAMES.get(kind.lower(), kind.lower())
    children = [child for child in element if isinstance(child.tag, str)] if len(element) else []
    if not children:
        value = _text(element) or ""
    elif not kind.endswith("xml") and len(children) == 1 and _local(children[0]) == "div" and not len(children[0]):
        value = "".join(element.itertext())  # the div's own tags are dropped (TypePad writes this)
    else:
        kind = "application/xhtml+xml"
        value = (element.text or "") + "".join(etree.tostring(c, encoding="unicode", with_tail=True) for c in element)
    value = value.strip()
    if _attribute(element, "mode") == "base64" or not (kind.startswith("text/") or kind.endswith(("+xml", "/xml"))):
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            value = base64.decodebytes(value.encode("utf-8")).decode("utf-8")
    return Text(value, kind)


def _link(element: etree._Element) -> list[Link]:
    """A link element (its address in href, url, uri or as its text), as a one-item list; empty without an address."""
    href = _attribute(element, "url") or _attribute(element, "uri") or _attribute(element, "href") or _text(element)
    if not href:
        return []
    rel = (_attribute(element, "rel") or "alternate").lower()
    kind = (_attribute(element, "type") or ("application/atom+xml" if rel == "self" else "text/html")).lower()
    return [Link(_resolved(element, href), rel, TYPE_NAMES.get(kind, kind))]


def _guid(element: etree._Element) -> tuple[str | None, bool]:
    """A guid or id and whether it is a permalink (not isPermaLink="false"); a permalink is resolved against a declared
    xml:base, as feedparser does."""
    value = _text(element)
    permalink = (_attribute(element, "isPermaLink") or "true") == "true"
    if value and permalink and _inherited(element, XML_BASE):
        value = _resolved(element, value)
    return value, permalink


def _text(element: etree._Element) -> str | None:
    """The element's text content (comments left out), stripped; None when blank."""
    text = "".join(element.itertext()) if len(element) else element.text
    return text.strip() or None if text else None


def _attribute(element: etree._Element, name: str) -> str | None:
    """An attribute without a namespace, its name in any case (feedparser lower-cases them)."""
    value = element.get(name)
    if value is None and element.attrib:
        value = next((v for k, v in element.attrib.items() if str(k).lower() == name.lower()), None)
    return None if value is None else str(value)


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname).lower()


def _resolved(element: etree._Element, href: str) -> str:
    """`href` resolved against the element's xml:base or the document's URL (an absolute http(s) URL is as it is)."""
    href = href.strip()
    if href.startswith(("http://", "https://")):
        return href
    base = element.base
    try:
        return urljoin(base, href) if base else href
    except ValueError:
        return href


def _inherited(element: etree._Element, attribute: str) -> str | None:
    """An xml: attribute of the element or its nearest ancestor that has one."""
    for node in (element, *element.iterancestors()):
        value = node.get(attribute)
        if value:
            return str(value)
    return None


@cache
def _tags(namespaces: frozenset[str], *names: str) -> frozenset[str]:
    """The tags lxml gives the names in each of the namespaces ("" is no namespace)."""
    return frozenset(f"{{{ns}}}{name}" if ns else name for ns in namespaces for name in names)


def _children(element: etree._Element, namespaces: frozenset[str], *names: str) -> list[etree._Element]:
    wanted = _tags(namespaces, *names)
    return [child for child in element if child.tag in wanted]
