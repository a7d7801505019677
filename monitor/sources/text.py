"""Text helpers shared by the source kinds: decoding document bytes, HTML to plain text, the bound on the
elements of HTML that is parsed, and BeautifulSoup trees that are freed as soon as they are done with."""

from __future__ import annotations

import codecs
import itertools
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import charset_normalizer
import lxml.html
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.dammit import EncodingDetector
from lxml import etree

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")
INVISIBLE_TAGS = ("script", "style", "noscript", "template")
BLOCK_TAGS = (
    "p", "div", "br", "hr", "li", "ul", "ol", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "table", "tr", "td", "th", "section", "article", "header", "footer", "figure", "figcaption", "img",
)
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2060\ufeff]")
START_TAG = re.compile(r"<[A-Za-z]")
# elements of HTML (a page, an item's text) parsed at most: lxml, BeautifulSoup and trafilatura spend 0.5-2 KB on each
MAX_HTML_ELEMENTS = 20_000
DETECTED_BYTES = 65_536  # the charset of a document that does not say is guessed from this many of its first bytes
log = logging.getLogger(__name__)


def decode_document(content: bytes, declared: str | None = None, *, is_html: bool = False) -> str:
    """Decode a feed or page (the one decoder of both): BOM, then (nearly) valid UTF-8, then the charset declared
    by the server (`declared`) or the document itself, then a guess from its first bytes; never raises.

    UTF-8 goes before declarations: legacy-encoded text is almost never valid UTF-8, while documents that declare
    a legacy charset but are UTF-8 are common, and a few stray invalid bytes in UTF-8 text are tolerated.
    """
    for bom, codec in BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(codec, "replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(content):
        return content.decode("utf-8", "replace")
    in_document = EncodingDetector.find_declared_encoding(content, is_html=is_html)
    for label in (declared, in_document):
        for codec in _codecs(label):
            try:
                return content.decode(codec)
            except UnicodeDecodeError:
                continue
    guess = charset_normalizer.from_bytes(content[:DETECTED_BYTES]).best()
    if guess is not None:
        try:
            return content.decode(guess.encoding)
        except UnicodeDecodeError:
            pass
    return content.decode("cp1252", "replace")


def _codecs(label: str | None) -> list[str]:
    """Python codecs for a charset label (none when unknown); like browsers, latin-1 and ASCII labels mean
    windows-1252, and latin-1 itself where windows-1252 has no character for a byte."""
    if not label:
        return []
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return []
    return ["cp1252", "latin-1"] if name in {"iso8859-1", "ascii"} else [name]


def _mostly_utf8(content: bytes) -> bool:
    """UTF-8 with a few stray bytes: many valid multi-byte characters for each invalid byte."""
    text = content.decode("utf-8", "replace")
    return len(_NON_ASCII.findall(text)) >= 4 * text.count("\ufffd")


def nth_start_tag(text: str, n: int) -> int | None:
    """Where the `n`-th start tag (`<` and a letter) of a document begins; None when it has fewer."""
    if text.count("<") < n:  # quick, and true of almost every document
        return None
    found = next(itertools.islice(START_TAG.finditer(text), n - 1, None), None)
    return None if found is None else found.start()


def first_elements(markup: str, name: str) -> str:
    """HTML cut before its (`MAX_HTML_ELEMENTS` + 1)-th start tag, with a warning naming it (`name`)."""
    cut = nth_start_tag(markup, MAX_HTML_ELEMENTS + 1)
    if cut is None:
        return markup
    log.warning("%s has more than %d elements; reading it up to there", name, MAX_HTML_ELEMENTS)
    return markup[:cut]


@contextmanager
def soup_of(markup: str) -> Iterator[BeautifulSoup]:
    """A BeautifulSoup tree (lxml) of a page, taken apart when the block ends: its elements refer to each other, so
    the garbage collector would free them only at its next full collection."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "lxml")
    try:
        yield soup
    finally:
        for child in list(soup.contents):
            child.decompose()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment (or of plain text): tags dropped, entities decoded, spaces collapsed.

    lxml rather than BeautifulSoup: a feed has hundreds of these and this is the hot loop of parsing (an article
    page's selected text, paragraphs kept, is `extract.select_text`'s).
    """
    if "<" not in markup and "&" not in markup:
        return clean_text(markup)
    try:  # as a document: a fragment's wrapper would leak into an unclosed <title> as text
        root = lxml.html.document_fromstring(first_elements(markup, "an HTML text"))
    except etree.ParserError:  # nothing but comments, a doctype, spaces
        return ""
    except ValueError:
        return clean_text(markup)
    etree.strip_elements(root, *INVISIBLE_TAGS, with_tail=False)
    for frame in root.iter("iframe"):  # lxml keeps an iframe's content as text; it is markup
        frame.text = html_to_text(frame.text or "")
    for element in root.iter(*BLOCK_TAGS):  # words in separate blocks stay separate words
        element.text = " " + (element.text or "")
        element.tail = " " + (element.tail or "")
    return clean_text("".join(root.itertext()))


def clean_text(text: str) -> str:
    """Whitespace collapsed, control and zero-width characters removed."""
    return " ".join(_INVISIBLE.sub("", text).split())
