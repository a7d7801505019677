"""Page → article body and metadata: decoding, the operator's selector override, a real generic extractor.

Pure: no I/O. The generic extractor is trafilatura, a precision-leaning and a default run combined
(comments excluded); the operator's `article_selector` takes precedence when it matches something. A page
is read up to its `MAX_HTML_ELEMENTS`-th element (trafilatura spends about 2 KB and 50 µs on each).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import SplitResult, urlsplit

import trafilatura
from bs4.element import Comment, NavigableString, PageElement, Tag
from htmldate import find_date
from lxml.html import HtmlElement

from monitor.records import parse_datetime
from monitor.sources.selectors import css_selector
from monitor.sources.text import decode_document, first_elements, soup_of
from monitor.urls import canonical_url as _canonical

BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "figcaption", "figure"}
    | {"footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre"}
    | {"section", "summary", "table", "td", "th", "tr", "ul"}
)
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "iframe", "svg"})
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
SPACES = re.compile(r"\s+")
WORD = re.compile(r"\w+")
FALLBACK_RATIO = 4  # the default run's text replaces the precise run's when this many times longer
RESTORED_MIN_WORDS = 15  # a paragraph the precise run dropped inside the article comes back when this long
SHOUTING_SHARE = 0.8  # a line with more than this share of capitals among its letters shouts
CLICK_HERE = re.compile(r"\bclick(ing)? here\b", re.IGNORECASE)
HEADLINE_ZONE = 3  # a headline repeated within the first lines of the body is dropped
BOILERPLATE_MAX_WORDS = 30  # only lines this short can be boilerplate
BOILERPLATE = re.compile(
    "|".join(
        (
            # a label alone on its line: teaser blocks, comment counters, tag lists
            r"^(comments?|tags|more|also|advertisement|share( this( article| story)?)?|don.?t miss|"
            r"(you (may|might) )?(also )?like|most (read|popular|viewed)( in [\w ]+)?|read more|"
            r"related( posts?| stories| articles| content| coverage)?|recommended( for you)?|trending( now)?|"
            r"top stories|partner news|latest news)\W*$",
            # teaser links: "Read more: <headline>", "Related: <headline>"
            r"^(read more|see more|also read|related( posts?| story| article)?|filed under)\s*:",
            # newsletter sign-ups
            r"\b(to|in|through) your (inbox|letterbox)\b",
        )
    ),
    re.IGNORECASE,
)
LINKS_BOX_MIN_LINES = 2  # this many lines in a row, each mostly a link to the same site, make a links box ...
LINKS_BOX_TAIL = 2  # ... when at most this many lines follow it
LINKS_BOX_LINE_MAX_WORDS = 25
LINKS_BOX_HEADING_MAX_WORDS = 6  # the short line just before a links box is its heading ("More from ...")
BIO_ZONE = 3  # an author's biography is looked for among the last lines
BIO_VERB = re.compile(
    r"^(is|was|has|holds|serves|writes|covers|reports|joined|lives|leads|spent|worked|began|teaches)\b"
)
# Removed before extraction: modal dialogs (video-player settings and notices, sign-up and consent pop-ups).
PRUNED = ('//*[@role="dialog" or @aria-modal="true"]',)


@dataclass(frozen=True)
class PageInfo:
    """What a page says about itself: title, body text, canonical URL, publication time, language."""

    title: str
    body: str
    canonical_url: str | None
    published: datetime | None
    language: str | None


def extract_page(html: str | bytes, url: str = "", selector: str | None = None, charset: str | None = None) -> PageInfo:
    """Body and metadata of one page; `selector` overrides the generic extractor when it matches (SelectorError
    when it is not a selector)."""
    text = first_elements(decode_html(html, charset), url)
    tree = trafilatura.load_html(text)
    if tree is None:
        return PageInfo(title="", body="", canonical_url=None, published=None, language=None)
    meta = _meta(tree)
    return PageInfo(
        title=_title(tree, meta),
        body=_body(text, tree, url, selector),
        canonical_url=_canonical_link(tree, meta, url),
        published=_published(tree, meta, url),
        language=_language(tree, meta),
    )


def extract_body(html: str | bytes, url: str = "", selector: str | None = None, charset: str | None = None) -> str:
    """Only the body text of a page, paragraphs separated by newlines."""
    text = first_elements(decode_html(html, charset), url)
    tree = trafilatura.load_html(text)
    return "" if tree is None else _body(text, tree, url, selector)


def score_entry(html: str, url: str) -> str:
    """Entry point for the article-extraction corpus scorer: (html, url) -> body."""
    return extract_body(html, url)


# -- decoding ---------------------------------------------------------------------------------------------------


def decode_html(html: str | bytes, charset: str | None = None) -> str:
    """Text of a page: as given, or its bytes decoded as a listing page's are (`decode_document`)."""
    return html if isinstance(html, str) else decode_document(html, charset, is_html=True)


# -- body -------------------------------------------------------------------------------------------------------


def _body(text: str, tree: HtmlElement, url: str, selector: str | None) -> str:
    """The selector's text when it matches something, else the generic extractor's."""
    if selector:
        selected = select_text(text, selector)
        if selected:
            return selected
    return generic_body(tree, url)


def generic_body(tree: HtmlElement, url: str = "") -> str:
    """Article text found by trafilatura, with teaser, call-to-action and repeated-headline lines, a closing box
    of links to the site's other pages and the author's closing biography removed."""
    precise = _trafilatura_text(tree, url, favor_precision=True).splitlines()
    default = _trafilatura_text(tree, url, favor_precision=False).splitlines()
    meta = _meta(tree)
    lines = list(_without_boilerplate(combined_runs(precise, default), _headlines(tree, meta)))
    lines = without_links_box(lines, _site_link_texts(tree, meta, url))
    return "\n".join(without_author_bio(lines, _author_names(tree, meta)))


def combined_runs(precise: list[str], default: list[str]) -> list[str]:
    """The precision-leaning run's lines, with what it dropped from the article that the default run found.

    When the default run finds several times more text, the precise run has latched onto a part (a lede, a
    notice box) and the default run is taken. Otherwise what the default run has between the precise run's
    first and last lines comes back in place when it is a long paragraph (the precise run drops boxed and
    widget paragraphs) or a line alone between two kept ones (a subheading, a list item), unless that line
    shouts in capitals or says "click here" (inline teasers and calls to action).
    """
    if sum(map(len, default)) > FALLBACK_RATIO * sum(map(len, precise)):
        return default
    kept = set(precise)
    inside = [index for index, line in enumerate(default) if line in kept]
    if not inside or not kept <= set(default):
        return precise
    lines = []
    for before, after in itertools.pairwise(inside):
        lines.append(default[before])
        gap = default[before + 1 : after]
        lines += [
            line
            for line in gap
            if len(WORD.findall(line)) >= RESTORED_MIN_WORDS or (len(gap) == 1 and not _teaser(line))
        ]
    return [*lines, default[inside[-1]]]


def _teaser(line: str) -> bool:
    """True for a line mostly in capitals or one that says "click here"."""
    letters = [char for char in line if char.lower() != char.upper()]
    shouting = bool(letters) and sum(char.isupper() for char in letters) > SHOUTING_SHARE * len(letters)
    return shouting or CLICK_HERE.search(line) is not None


def _trafilatura_text(tree: HtmlElement, url: str, *, favor_precision: bool) -> str:
    """One trafilatura run (comments and modal dialogs excluded), whitespace normalised."""
    result = trafilatura.extract(
        tree, url=url or None, favor_precision=favor_precision, include_comments=False, prune_xpath=list(PRUNED)
    )
    return normalise_text(result or "")


def _without_boilerplate(lines: list[str], headlines: set[str]) -> Iterator[str]:
    """The lines minus a repeated headline at the top and short teaser/call-to-action lines anywhere."""
    for index, line in enumerate(lines):
        if index < HEADLINE_ZONE and _words_key(line) in headlines:
            continue
        if len(WORD.findall(line)) <= BOILERPLATE_MAX_WORDS and BOILERPLATE.search(line):
            continue
        yield line


def _headlines(tree: HtmlElement, meta: dict[str, str]) -> set[str]:
    """Word keys of the page's headline spellings: og:title, twitter:title, <title>, the first <h1>.

    Later <h1>s are section headings or captions as often as not, and stay.
    """
    spellings = [meta.get("og:title", ""), meta.get("twitter:title", "")]
    spellings += [el.text_content() for el in tree.iter("title")]
    spellings += [el.text_content() for el in itertools.islice(tree.iter("h1"), 1)]
    return {key for key in map(_words_key, spellings) if key}


def without_links_box(lines: list[str], site_links: set[str]) -> list[str]:
    """The lines minus a box of links to the site's other pages at the end ("More from ...", related stories).

    A links box is a run of `LINKS_BOX_MIN_LINES` or more lines that are each mostly the text of one link to
    the page's own site, with at most `LINKS_BOX_TAIL` lines after it; a short line just before it is its
    heading and goes too. Lists of links to other sites (sources, further reading) stay, as do such lists
    inside the article.
    """
    drop: set[int] = set()
    end = len(lines) - 1
    while end >= len(lines) - 1 - LINKS_BOX_TAIL and end >= 0:
        start = end
        while start >= 0 and _link_line(lines[start], site_links):
            start -= 1
        if end - start >= LINKS_BOX_MIN_LINES:
            drop.update(range(start + 1, end + 1))
            if start >= 0 and _box_heading(lines[start]):
                drop.add(start)
        end = start - 1 if start < end else end - 1
    return [line for index, line in enumerate(lines) if index not in drop]


def _link_line(line: str, link_texts: set[str]) -> bool:
    """True for a short line at least half of whose words are the text of one of the links."""
    words = _words_key(line).split()
    if len(line.split()) > LINKS_BOX_LINE_MAX_WORDS or not words:
        return False
    shortest = max(2, (len(words) + 1) // 2)
    return any(
        " ".join(words[first : first + size]) in link_texts
        for size in range(len(words), shortest - 1, -1)
        for first in range(len(words) - size + 1)
    )


def _box_heading(line: str) -> bool:
    """True for a short line that does not end a sentence or announce what follows."""
    return len(line.split()) <= LINKS_BOX_HEADING_MAX_WORDS and not line.rstrip().endswith((".", ":"))


def _site_link_texts(tree: HtmlElement, meta: dict[str, str], url: str) -> set[str]:
    """Word keys of the texts (two words or more) of the page's links to its own site: web links, relative or
    to the page's host (its URL's, else its canonical URL's)."""
    page = _split(url or _canonical_link(tree, meta, url) or "")
    site = _host(page.netloc) if page else ""
    texts = set()
    for anchor in tree.iter("a"):
        target = _split((anchor.get("href") or "").strip())
        if target and target.scheme in {"", "http", "https"} and (not target.netloc or _host(target.netloc) == site):
            key = _words_key(anchor.text_content())
            if " " in key:
                texts.add(key)
    return texts


def _split(url: str) -> SplitResult | None:
    """The parts of `url`; None when it cannot be parsed ('http://[x', as a page's href or canonical link may be)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _host(netloc: str) -> str:
    """A URL's host as compared here: lower-cased, without a leading 'www.'."""
    return netloc.lower().removeprefix("www.")


def without_author_bio(lines: list[str], authors: set[str]) -> list[str]:
    """The lines minus the author's biography: one of the last `BIO_ZONE` lines (never the first) that begins
    with an author's full name followed by a verb of biography ("Jane Doe is a reporter ...", "... has covered")."""
    bio_from = max(len(lines) - BIO_ZONE, 1)
    return [line for index, line in enumerate(lines) if index < bio_from or not _bio_line(line, authors)]


def _bio_line(line: str, authors: set[str]) -> bool:
    """True for a line that begins with one of the authors' names and a verb of biography."""
    key = _words_key(line)
    return any(key.startswith(f"{name} ") and BIO_VERB.match(key[len(name) + 1 :]) for name in authors)


def _author_names(tree: HtmlElement, meta: dict[str, str]) -> set[str]:
    """Word keys of the page's author names of two words or more: the author meta tag and JSON-LD authors."""
    names = [meta.get("author", "")]
    for value in _jsonld_values(tree, "author"):
        for author in value if isinstance(value, list) else [value]:
            name = author.get("name") if isinstance(author, dict) else author
            names.append(name if isinstance(name, str) else "")
    keys = {_words_key(name) for name in names if not name.startswith(("http:", "https:"))}
    return {key for key in keys if " " in key}


def _words_key(text: str) -> str:
    """Lower-cased words of a text, for comparisons that ignore punctuation and spacing."""
    return " ".join(WORD.findall(text.lower()))


def select_text(html: str, selector: str) -> str:
    """Text of the elements matching a CSS selector, one paragraph a line; '' when nothing matches, SelectorError
    when it is not a selector.

    Not `sources.text.html_to_text`, which gives a feed item's fragment as one line: that one parses with lxml,
    about ten times faster in the hot loop of parsing; this one selects in a BeautifulSoup tree, as soupsieve
    reads the operator's selector, and keeps the paragraphs.
    """
    with soup_of(html) as soup:
        matched = soup.select(css_selector(selector))
        ids = {id(el) for el in matched}
        outermost = [el for el in matched if not any(id(parent) in ids for parent in el.parents)]
        return normalise_text("\n".join("".join(_text_pieces(el)) for el in outermost))


def _text_pieces(node: Tag) -> Iterator[str]:
    """Text of an element with a newline around each block-level element, skipping scripts and comments
    (walked with a stack of its own: a page may nest elements far deeper than Python may recurse)."""
    stack: list[PageElement | None] = list(reversed(node.contents))  # None: the end of a block
    while stack:
        child = stack.pop()
        if child is None:
            yield "\n"
        elif isinstance(child, Comment):
            continue
        elif isinstance(child, NavigableString):
            yield SPACES.sub(" ", child)
        elif isinstance(child, Tag) and child.name not in SKIP_TAGS:
            if child.name in BLOCK_TAGS:
                yield "\n"
                stack.append(None)
            stack.extend(reversed(child.contents))


def normalise_text(text: str) -> str:
    """Whitespace collapsed within lines, empty lines dropped, lines joined by single newlines."""
    lines = (SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# -- metadata ---------------------------------------------------------------------------------------------------


def _meta(tree: HtmlElement) -> dict[str, str]:
    """Lower-cased meta property/name/itemprop → first content seen."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in found:
            found[key] = content.strip()
    return found


def _title(tree: HtmlElement, meta: dict[str, str]) -> str:
    """og:title, else <title>, else the first <h1>; whitespace normalised."""
    candidates = [meta.get("og:title", "")]
    candidates += [el.text_content() for el in tree.iter("title", "h1")]
    return next((SPACES.sub(" ", c).strip() for c in candidates if c and c.strip()), "")


def _canonical_link(tree: HtmlElement, meta: dict[str, str], url: str) -> str | None:
    """<link rel=canonical>, else og:url, resolved against the page URL and canonicalised; None if unusable."""
    hrefs = [el.get("href") for el in tree.iter("link") if "canonical" in (el.get("rel") or "").lower().split()]
    hrefs.append(meta.get("og:url"))
    for href in hrefs:
        candidate = _canonical(href, url or None) if href and href.strip() else ""
        if _usable_canonical(candidate, url):
            return candidate
    return None


def _usable_canonical(candidate: str, page_url: str) -> bool:
    """An absolute http(s) URL, and not the site's front page claimed by an article (a common template bug)."""
    parts = _split(candidate)
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    front_page = parts.path == "/" and not parts.query
    page = _split(page_url)
    return not front_page or page is None or page.path in {"", "/"}


def _language(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    """The <html lang> attribute (e.g. 'en', 'pt-BR'), else content-language meta."""
    root = tree.getroottree().getroot()
    lang = root.get("lang") or root.get("xml:lang") or meta.get("content-language") or ""
    return lang.strip() or None


def _published(tree: HtmlElement, meta: dict[str, str], url: str) -> datetime | None:
    """Publication time in UTC from meta tags, JSON-LD, <time datetime>, else htmldate's guess."""
    candidates = [meta.get(key) for key in PUBLISHED_META]
    candidates += [value for value in _jsonld_values(tree, "datePublished") if isinstance(value, str)]
    candidates += [el.get("datetime") for el in tree.iter("time")]
    for value in candidates:
        parsed = parse_datetime(value) if value else None
        if parsed is not None:
            return parsed
    return _guessed_date(tree, url)


def _jsonld_values(tree: HtmlElement, key: str) -> Iterator[object]:
    """Values of `key` anywhere in the page's JSON-LD blocks."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        yield from _find_key(data, key)


def _find_key(data: object, key: str) -> Iterator[object]:
    """Depth-first values under `key` in parsed JSON."""
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key:
                yield value
            else:
                yield from _find_key(value, key)
    elif isinstance(data, list):
        for item in data:
            yield from _find_key(item, key)


def _guessed_date(tree: HtmlElement, url: str) -> datetime | None:
    """htmldate's quick guess from markup, text and URL (trafilatura's date finder); a bare day is midnight UTC."""
    try:
        found = find_date(tree, extensive_search=False, original_date=True, outputformat=ISO_FORMAT, url=url or None)
    except Exception:  # the date finder is a heuristic best effort; a failure only means no date
        return None
    return parse_datetime(found) if found else None
