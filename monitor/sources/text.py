"""Text helpers shared by the source kinds: decoding document bytes, and HTML to plain text."""

from __future__ import annotations

import codecs
import re

import charset_normalizer
import lxml.html
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


def decode_document(content: bytes, declared: str | None = None, *, is_html: bool = False) -> str:
    """Decode a feed or page: BOM, then valid UTF-8 (also when mis-declared), then the charset declared by
    the server (`declared`) or the document itself, then detection; never raises."""
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
    for candidate in (declared, in_document):
        text = _try_decode(content, candidate)
        if text is not None:
            return text
    best = charset_normalizer.from_bytes(content).best()
    return str(best) if best is not None else content.decode("cp1252", "replace")


def _try_decode(content: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return content.decode(codecs.lookup(encoding).name)
    except (LookupError, UnicodeDecodeError):
        return None


def _mostly_utf8(content: bytes) -> bool:
    """UTF-8 with a few stray bytes: many valid multi-byte characters for each invalid byte."""
    text = content.decode("utf-8", "replace")
    return len(_NON_ASCII.findall(text)) >= 4 * text.count("\ufffd")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment (or of plain text): tags dropped, entities decoded, spaces collapsed.

    lxml rather than BeautifulSoup: a feed has hundreds of these and this is the hot loop of parsing.
    """
    if "<" not in markup and "&" not in markup:
        return clean_text(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(markup)
    etree.strip_elements(root, *INVISIBLE_TAGS, with_tail=False)
    for element in root.iter(*BLOCK_TAGS):  # words in separate blocks stay separate words
        element.text = " " + (element.text or "")
        element.tail = " " + (element.tail or "")
    return clean_text("".join(root.itertext()))


def clean_text(text: str) -> str:
    """Whitespace collapsed, control and zero-width characters removed."""
    return " ".join(_INVISIBLE.sub("", text).split())
