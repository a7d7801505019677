"""Source kind `feed`: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed 1/1.1 via json.

Of a document, the first `MAX_ITEMS` items are read; XML of more than `MAX_FEED_ELEMENTS` elements is read
only up to the item in which its (`MAX_FEED_ELEMENTS` + 1)-th element is, and JSON of more objects is refused:
parse trees grow with the elements (100-600 bytes each), whatever their size.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import feedparser

from monitor.errors import ParseError
from monitor.records import Article, FetchResult, parse_datetime
from monitor.sources import MAX_ITEMS, first_items, items_cut
from monitor.sources.fastfeed import from_struct, parse_simple, plausible
from monitor.sources.items import Item, Link, RawItem, Text, decide, stripped
from monitor.sources.text import decode_document, nth_start_tag

# GUIDs unique by their form: a URL, a URN, a tag: URI or a UUID
GLOBAL_GUID = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|urn:|tag:|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$)", re.I)
log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATED = 20_000_000  # a feed saved gzipped and served without Content-Encoding is inflated up to this
JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/", "1")
# feedparser's notes that say nothing about the items (we decode to UTF-8 ourselves, types vary in the wild)
HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
ITEM_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")  # an RSS item's or Atom entry's start tag
CDF_ROOT = re.compile(r"(?:<\?[^>]*\?>|<!--.*?-->|\s)*<channel[\s>]", re.I | re.S)  # CDF: a <CHANNEL> root
MAX_FEED_ELEMENTS = 50_000  # real feeds have up to ~75 elements an item, and rarely more than 5,000 in all


def feed_articles(result: FetchResult, *, source: str, language: str | None = None) -> list[Article]:
    """A fetched feed's articles (the `feed` kind's parse), each link resolved against the feed's address."""
    return articles(feed_items(result, source=source), result.final_url or result.url, source, language)


def feed_items(result: FetchResult, *, source: str) -> list[Item]:
    """The items (the first `MAX_ITEMS`) of a fetched feed, normalised; ParseError when it is not a feed."""
    content = _inflate(result.content, result.url)
    body = decode_document(content, result.charset).lstrip("\ufeff \t\r\n")
    if not body:
        raise ParseError(f"{result.url}: empty document, not a feed")
    raw = _json_items(body, result.url) if body.startswith("{") else _xml_items(body, result.url, source)
    base = result.final_url or result.url
    return [decide(item, base) for item in first_items(raw, source, result.url)]


def _inflate(content: bytes, url: str) -> bytes:
    """The document, gunzipped when it was stored gzipped and served without Content-Encoding."""
    if not content.startswith(GZIP_MAGIC):
        return content
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        inflated = inflater.decompress(content, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise ParseError(f"{url}: gzip data that cannot be decompressed: {exc}") from exc
    if len(inflated) > MAX_INFLATED:
        raise ParseError(f"{url}: gzipped document inflates beyond {MAX_INFLATED} bytes")
    return inflated


def _xml_items(text: str, url: str, source: str) -> list[RawItem]:
    first = _first_items(text, url, source)
    cut = len(first) < len(text)
    fast = parse_simple(first, url, cut=cut)
    return fast if fast is not None else _feedparser_items(first, url, cut=cut)


def _first_items(text: str, url: str, source: str) -> str:
    """All of a document of at most `MAX_FEED_ELEMENTS` elements; of a bigger one, with a warning, the part before
    its (`MAX_ITEMS` + 1)-th item and before the item in which its (`MAX_FEED_ELEMENTS` + 1)-th element is."""
    limit = nth_start_tag(text, MAX_FEED_ELEMENTS + 1)
    if limit is None:
        return text
    starts = [m.start() for m in islice(ITEM_START.finditer(text, 0, limit), MAX_ITEMS + 1)]
    if len(starts) > MAX_ITEMS:
        items_cut(source, url)
        return text[: starts[MAX_ITEMS]]
    if len(starts) < 2:
        raise ParseError(f"{url}: more than {MAX_FEED_ELEMENTS} elements before the end of its first item; not read")
    log.warning("source %s: %s has more than %d elements; reading its first %d items", source, url,
                MAX_FEED_ELEMENTS, len(starts) - 1, extra={"source": source})
    return text[: starts[-1]]


def _feedparser_items(text: str, url: str, *, cut: bool = False) -> list[RawItem]:
    """The items feedparser reads; `cut`: the text stops short on purpose (no warning that it is not well-formed).

    feedparser is given no address for the document: it would resolve ids against it and copy them into links.
    """
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),  # a file object: feedparser would open a bare string as a path
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries and not parsed.get("version") and not CDF_ROOT.match(text):
        problem = parsed.get("bozo_exception") or "no RSS, RDF, Atom or CDF root element"
        raise ParseError(f"{url}: not a feed ({problem})")
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, HARMLESS_BOZO) and not cut:
        log.warning("%s: feed is not well-formed (%s); using the %d items read", url, problem, len(parsed.entries))
    feed_language = parsed.feed.get("language")
    typed = parsed.get("version", "").startswith("atom")
    return [_xml_item(entry, feed_language, typed) for entry in parsed.entries]


def _xml_item(entry: Mapping[str, Any], feed_language: Any, typed: bool) -> RawItem:
    links = [Link(link["href"], link.get("rel", "alternate"), link.get("type", "text/html"))
             for link in entry.get("links", []) if link.get("href")]
    texts = [_text_of(entry.get("summary"), entry.get("summary_detail"))]
    texts += [_text_of(content.get("value"), content) for content in entry.get("content", [])]
    return RawItem(
        links=links,
        guid=entry.get("id"),
        guid_is_link=bool(entry.get("guidislink")),
        title=_text_of(entry.get("title"), entry.get("title_detail")),
        texts=[text for text in texts if text],
        published=from_struct(entry.get("published_parsed")),
        updated=from_struct(entry.get("updated_parsed")),
        language=_xml_language(entry) or feed_language,
        typed=typed,
    )


def _text_of(value: Any, detail: Mapping[str, Any] | None) -> Text | None:
    """A feedparser text and its content type (the detail's own value can be a nested element's: an <image>'s
    title); None without a detail (a summary that copies a content: that is read)."""
    return Text(value, detail.get("type", "text/plain")) if detail and isinstance(value, str) else None


def _xml_language(entry: Mapping[str, Any]) -> str | None:
    for key in ("title_detail", "summary_detail"):
        language = (entry.get(key) or {}).get("language")
        if language:
            return str(language)
    return None


def _json_items(text: str, url: str) -> list[RawItem]:
    """The first `MAX_ITEMS` + 1 items of a JSON Feed (ParseError for one of more than `MAX_FEED_ELEMENTS` objects)."""
    try:
        data = json.loads(text, object_pairs_hook=_CountedObjects(url))
    except ValueError as exc:
        raise ParseError(f"{url}: not a feed (invalid JSON: {exc})") from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not (isinstance(version, str) and version.startswith(JSON_FEED_VERSIONS)) or not isinstance(
        data.get("items"), list
    ):
        raise ParseError(f"{url}: not a feed (JSON without a JSON Feed version and items)")
    feed_language = data.get("language")
    return [_json_item(entry, feed_language) for entry in data["items"][: MAX_ITEMS + 1] if isinstance(entry, dict)]


class _CountedObjects:
    """json's object_pairs_hook: each object as a dict, and a ParseError at the (`MAX_FEED_ELEMENTS` + 1)-th."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.count = 0

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.count += 1
        if self.count > MAX_FEED_ELEMENTS:
            raise ParseError(f"{self.url}: more than {MAX_FEED_ELEMENTS} JSON objects; not read")
        return dict(pairs)


def _json_item(entry: Mapping[str, Any], feed_language: Any) -> RawItem:
    """A JSON Feed item: its title and summary are plain text, content_html is HTML."""
    guid = entry.get("id")
    links = [Link(url) for url in (entry.get("url"), entry.get("external_url")) if isinstance(url, str)]
    texts = [(entry.get("summary"), "text/plain"), (entry.get("content_html"), "text/html"),
             (entry.get("content_text"), "text/plain")]
    title = entry.get("title")
    return RawItem(
        links=links,
        guid=str(guid) if isinstance(guid, str | int) else None,
        guid_is_link=True,
        title=Text(title) if isinstance(title, str) else None,
        texts=[Text(value, kind) for value, kind in texts if isinstance(value, str)],
        published=_from_iso(entry.get("date_published")),
        updated=_from_iso(entry.get("date_modified")),
        language=stripped(entry.get("language")) or feed_language,
        typed=True,
    )


def _from_iso(value: Any) -> datetime | None:
    when = parse_datetime(value) if isinstance(value, str) else None
    return plausible(when) if when else None


def _articles(items: Iterable[RawItem], base: str, source: str, language: str | None) -> list[Article]:
    """The Articles of raw items of a feed at `base` (for the tests that compare the two XML paths)."""
    return articles([decide(item, base) for item in items], base, source, language)


def articles(items: Iterable[Item], base: str, source: str, language: str | None) -> list[Article]:
    """An Article for each item that links to a page, of a feed at `base` (`language`: for items whose feed names
    none)."""
    found: list[Article] = []
    skipped = 0
    for item in items:
        if item.link is None:
            skipped += 1
            continue
        found.append(
            Article(
                url=item.link,
                source=source,
                title=item.title,
                summary=item.text,
                published=item.published or item.updated,
                updated=item.updated,
                language=item.language or language,
                guid=_scoped_guid(item.guid, base),
            )
        )
    if skipped:
        log.info("%s: skipped %d feed items without an http(s) link", source, skipped)
    return found


def _scoped_guid(guid: str | None, base: str) -> str | None:
    """A GUID that is not globally unique by its form (URL, URN, tag:, UUID) is scoped to the feed's host,
    so two sites numbering their items 1, 2, 3 are not taken for the same articles."""
    if guid is None or GLOBAL_GUID.match(guid):
        return guid
    return f"{urlsplit(base).netloc.lower()}:{guid}"
