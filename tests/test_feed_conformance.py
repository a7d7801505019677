"""The monitor reads feedparser's own test corpus as feedparser reads it, and its two XML paths agree on every file.

The corpus is 382 files of feedparser's tests/wellformed and tests/illformed (tests/data/feedparser, with
feedparser's licence; see its README): those whose test is about a field the monitor reads, and every file in
which the two differed before issue 16. How each side is read and normalised: tests/feed_conformance.py.
A difference is allowed only where `ALLOWED` gives its reason, and each reason is checked where it can be.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import feedparser
import pytest

from monitor.sources import feed as feed_mod
from monitor.sources.fastfeed import parse_simple
from monitor.sources.items import decide
from monitor.sources.text import decode_document
from tests.feed_conformance import Difference, corpus, differences, feed_url, squeezed, theirs
from tests.testdata import DATA

CORPUS = DATA / "feedparser"
FILES = corpus([CORPUS])

ENCODING = "an undeclared legacy encoding, named by the file: the monitor detects it, feedparser reads windows-1252"
OWN_TEST = "feedparser fails this file's own test (its Expect line gives the monitor's value)"
NESTED = "an element inside another child of the item (an <image>) is not the item's own: feedparser takes it"
UNRESOLVABLE = "feedparser drops a permalink GUID that urljoin cannot parse; the monitor keeps it as written"
DECLARATION = ("a markup declaration in HTML text: lxml reads <!DOCTYPE and <![CDATA[ as the HTML standard does "
               "(a doctype, a bogus comment), the reference's html.parser keeps them as text")
CODECS = {"eucjp": "euc_jp", "euckr": "euc_kr", "gb2312": "gb2312", "koi8r": "koi8_r", "shiftjis": "shift_jis",
          "tis620": "tis_620", "windows1255": "cp1255"}

ALLOWED: dict[tuple[str, str], str] = {
    **{(f"illformed/chardet/{name}.xml", "title"): ENCODING for name in ("eucjp", "euckr", "gb2312", "koi8r",
                                                                         "shiftjis")},
    **{(f"illformed/chardet/{name}.xml", "text"): ENCODING for name in ("eucjp", "euckr", "koi8r", "shiftjis",
                                                                        "tis620", "windows1255")},
    **{(f"wellformed/{atom}/{name}.xml", "link"): OWN_TEST for atom in ("atom", "atom10")
       for name in ("entry_link_no_href_link_priority", "entry_link_rel_enclosure_no_href")},
    ("wellformed/node_precedence/atom10_id.xml", "link"): NESTED,  # the <image>'s <id>, copied into the link
    ("wellformed/rss/item_category_image.xml", "title"): NESTED,
    ("wellformed/rss/item_guid_isPermaLink_ValueError.xml", "guid"): UNRESOLVABLE,
    ("wellformed/rss/item_description_not_a_doctype2.xml", "text"): DECLARATION,
    ("wellformed/sanitize/item_content_encoded_script_nested_cdata.xml", "text"): DECLARATION,
}
# where the fallback, being feedparser, reads the file as feedparser does and the fast path does not
FALLBACK_AS_FEEDPARSER = {
    ("wellformed/rss/item_category_image.xml", "title"),
    ("wellformed/rss/item_guid_isPermaLink_ValueError.xml", "guid"),
}


@pytest.fixture(scope="module")
def found() -> list[Difference]:
    logging.disable(logging.WARNING)  # the ill-formed files are ill-formed on purpose
    try:
        return [d for name, path in FILES for d in differences(name, path.read_bytes())]
    finally:
        logging.disable(logging.NOTSET)


def listed(items: list[Difference]) -> str:
    by_field: dict[str, list[str]] = defaultdict(list)
    for difference in items:
        by_field[difference.field].append(str(difference))
    return "\n".join(f"{field} ({len(lines)}):\n  " + "\n  ".join(lines) for field, lines in by_field.items())


def test_the_corpus_is_there() -> None:
    assert len(FILES) == 382 and (CORPUS / "LICENSE").read_text().startswith("feedparser and its unit tests")


def test_the_monitor_reads_every_field_as_feedparser_does_but_where_allowed(found: list[Difference]) -> None:
    unexplained = [d for d in found if (d.file, d.field) not in ALLOWED]
    assert not unexplained, "differences from feedparser no reason allows:\n" + listed(unexplained)
    stale = set(ALLOWED) - {(d.file, d.field) for d in found}
    assert not stale, f"allowed differences that are gone (take them out of ALLOWED): {sorted(stale)}"


def allowed(found: list[Difference], reason: str) -> Iterator[Difference]:
    return (d for d in found if ALLOWED.get((d.file, d.field)) == reason)


def test_feedparser_fails_its_own_tests_where_the_monitor_gives_the_expected_value(found: list[Difference]) -> None:
    checked = 0
    for difference in allowed(found, OWN_TEST):
        text = (CORPUS / difference.file).read_text(encoding="utf-8")
        expect = re.search(r"Expect:\s*(.+)", text)
        assert expect is not None
        parsed: dict[str, Any] = dict(feedparser.parse(text.encode("utf-8")))
        assert not eval(expect[1], {}, parsed), difference  # feedparser's own harness evaluates the line so
        assert repr(difference.ours) in expect[1], difference
        checked += 1
    assert checked == 4


def test_undeclared_legacy_encodings_are_decoded_by_the_monitor_not_by_feedparser(found: list[Difference]) -> None:
    checked = 0
    for difference in allowed(found, ENCODING):
        codec = CODECS[difference.file.rsplit("/", 1)[-1].removesuffix(".xml")]
        document = squeezed(html.unescape((CORPUS / difference.file).read_bytes().decode(codec)))
        assert squeezed(difference.ours)[:30] in document and squeezed(difference.theirs)[:30] not in document
        checked += 1
    assert checked == 11


def test_fast_path_and_fallback_give_identical_items() -> None:
    logging.disable(logging.WARNING)
    read = 0
    mismatches = []
    try:
        for name, path in FILES:
            url = feed_url(name)
            text = decode_document(path.read_bytes()).lstrip("\ufeff \t\r\n")
            fast = parse_simple(text, url)
            if fast is None:
                continue  # not well-formed RSS or Atom 1.0: only the fallback reads it
            read += 1
            slow = feed_mod._feedparser_items(text, url)
            assert len(fast) == len(slow), name
            mismatches += [
                (name, field, getattr(a, field), getattr(b, field))
                for a, b in zip((decide(i, url) for i in fast), (decide(i, url) for i in slow), strict=True)
                for field in a.__slots__
                if getattr(a, field) != getattr(b, field)
            ]
    finally:
        logging.disable(logging.NOTSET)
    assert [m for m in mismatches if m[:2] not in FALLBACK_AS_FEEDPARSER] == []
    assert {m[:2] for m in mismatches} == FALLBACK_AS_FEEDPARSER
    assert read > len(FILES) / 2  # most of the corpus is well-formed RSS and Atom 1.0


def test_feedparsers_reading_is_what_the_reference_compares_with() -> None:
    """The reference side itself: a link copied from an id that is no URL is no link, texts by their type."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
      <title type="text">History of the &lt;blink&gt; tag</title>
      <summary type="html">&lt;p&gt;a &lt;b&gt;bold&lt;/b&gt; move&lt;/p&gt;</summary></entry></feed>"""
    (entry,) = theirs(atom, "http://feeds.example/a.xml") or []
    assert entry["link"] is None and entry["guid"] == "1"
    assert entry["title"] == "History of the <blink> tag" and entry["text"] == "a bold move"
