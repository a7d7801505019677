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
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import feedparser

from monitor.errors import ParseError
from monitor.records import Article, FetchResult
from monitor.sources import MAX_ITEMS, first_items, items_cut, register
from monitor.sources.fastfeed import FeedItem, from_struct, parse_simple, plausible
from monitor.sources.text import decode_document, html_to_text, nth_start_tag
from monitor.urls import canonical_url

# GUIDs unique by their form: a URL, a URN, a tag: URI or a UUID
GLOBAL_GUID = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|urn:|tag:|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$)", re.I)
log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATED = 20_000_000  # a feed saved gzipped and served without Content-Encoding is inflated up to this
JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/", "1")
# feedparser's notes that say nothing about the items (we decode to UTF-8 ourselves, types vary in the wild)
HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
ITEM_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")  # an RSS item's or Atom entry's start tag
MAX_FEED_ELEMENTS = 50_000  # real feeds have up to ~75 elements an item, and rarely more than 5,000 in all


@register("feed")
class FeedKind:
    """A news feed; each item becomes an Article with its link resolved against the feed's address."""

    def parse(
        self,
        result: FetchResult,
        *,
        source: str,
        language: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[Article]:
        content = _inflate(result.content, result.url)
        text = decode_document(content, result.charset)
        body = text.lstrip("\ufeff \t\r\n")
        if not body:
            raise ParseError(f"{result.url}: empty document, not a feed")
        items = _json_items(body, result.url) if body.startswith("{") else _xml_items(body, result.url, source)
        return _articles(first_items(items, source, result.url), result.final_url or result.url, source, language)


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


def _xml_items(text: str, url: str, source: str) -> list[FeedItem]:
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


def _feedparser_items(text: str, url: str, *, cut: bool = False) -> list[FeedItem]:
    """The items feedparser reads; `cut`: the text stops short on purpose (no warning that it is not well-formed)."""
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),  # a file object: feedparser would open a bare string as a path
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception") or "no RSS, RDF or Atom root element"
        raise ParseError(f"{url}: not a feed ({problem})")
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, HARMLESS_BOZO) and not cut:
        log.warning("%s: feed is not well-formed (%s); using the %d items read", url, problem, len(parsed.entries))
    feed_language = parsed.feed.get("language")
    return [_xml_item(entry, feed_language) for entry in parsed.entries]


def _xml_item(entry: Mapping[str, Any], feed_language: Any) -> FeedItem:
    contents = [c.get("value", "") for c in entry.get("content", [])]
    return FeedItem(
        link=entry.get("link"),
        guid=entry.get("id"),
        title=entry.get("title"),
        texts=[entry.get("summary"), *contents],
        published=from_struct(entry.get("published_parsed")),
        updated=from_struct(entry.get("updated_parsed")),
        language=_xml_language(entry) or feed_language,
    )


def _xml_language(entry: Mapping[str, Any]) -> str | None:
    for key in ("title_detail", "summary_detail"):
        language = (entry.get(key) or {}).get("language")
        if language:
            return str(language)
    return None


def _json_items(text: str, url: str) -> list[FeedItem]:
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


def _json_item(entry: Mapping[str, Any], feed_language: Any) -> FeedItem:
    guid = entry.get("id")
    return FeedItem(
        link=entry.get("url") or entry.get("external_url"),
        guid=str(guid) if isinstance(guid, str | int) else None,
        title=entry.get("title"),
        texts=[entry.get(k) for k in ("summary", "content_html", "content_text")],
        published=_from_iso(entry.get("date_published")),
        updated=_from_iso(entry.get("date_modified")),
        language=entry.get("language") or feed_language,
    )


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return plausible(when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC))


def _articles(items: Iterable[FeedItem], base: str, source: str, language: str | None) -> list[Article]:
    articles: list[Article] = []
    skipped = 0
    for item in items:
        guid = _text(item.guid)
        url = _web_url(item.link, base)
        if url is None and guid is not None and guid.lower().startswith(("http://", "https://")):
            url = _web_url(guid, base)  # an RSS guid that is a permalink
        if url is None:
            skipped += 1
            continue
        guid = _scoped_guid(guid, base)
        articles.append(
            Article(
                url=url,
                source=source,
                title=html_to_text(_text(item.title) or ""),
                summary=max((html_to_text(t) for t in map(_text, item.texts) if t), key=len, default=""),
                published=item.published or item.updated,
                updated=item.updated,
                language=_text(item.language) or language,
                guid=guid,
            )
        )
    if skipped:
        log.info("%s: skipped %d feed items without an http(s) link", source, skipped)
    return articles


def _scoped_guid(guid: str | None, base: str) -> str | None:
    """A GUID that is not globally unique by its form (URL, URN, tag:, UUID) is scoped to the feed's host,
    so two sites numbering their items 1, 2, 3 are not taken for the same articles."""
    if guid is None or GLOBAL_GUID.match(guid):
        return guid
    return f"{urlsplit(base).netloc.lower()}:{guid}"


def _web_url(value: Any, base: str) -> str | None:
    """The canonical http(s) URL `value` points to (relative to `base`), or None."""
    text = _text(value)
    try:
        if text is None or urlsplit(text).scheme.lower() not in ("", "http", "https"):
            return None  # another scheme (tag:, urn:, mailto:) is not a page to read
    except ValueError:
        return None
    url = canonical_url(text, base)
    return url if url.startswith(("http://", "https://")) else None


def _text(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None
