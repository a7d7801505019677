# ruff: noqa: RUF001 - multi-script test data
"""Relevance lexicons looked up word by word find exactly what evaluating each of their parts finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.query import lexicons
from monitor.query.document import Document
from monitor.query.evaluator import evaluate
from monitor.query.lexicons import (
    BACKGROUND,
    BACKGROUND_AFTER,
    CONFLICT,
    COURSE,
    ECONOMY,
    NOW,
    OTHER_SENSE,
    VIOLATION,
    Lexicon,
)
from monitor.query.nodes import Phrase, Prefix, Term

LEXICONS = (VIOLATION, COURSE, NOW, BACKGROUND, BACKGROUND_AFTER, CONFLICT, ECONOMY, OTHER_SENSE)
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "ceasefire-dev.jsonl"


def reference_hits(lexicon: Lexicon, title: str, body: str, language: str | None) -> set[int]:
    """Every part of the list that reads the document's language evaluated as a query on a fresh document."""
    doc = Document(title, body, language)
    return {first for part in lexicon.parts_for(doc.language) for first, _ in evaluate(part, doc) or []}


def lexicon_words() -> list[str]:
    """The lists' words as written in them, with prefix and phrase words."""
    out: list[str] = []
    for lexicon in LEXICONS:
        for part in lexicon.parts:
            words = part.words if isinstance(part, Phrase) else (part,) if isinstance(part, Term | Prefix) else ()
            out += [w.text for w in words]
    return out


WORDS = st.sampled_from(lexicon_words())
ENDINGS = st.sampled_from(["", "", "s", "ed", "ing", "ion", "ы", "ия", "ями", "ung", "en", "es", "ի", "ları", "er"])
TOKENS = st.one_of(st.tuples(WORDS, ENDINGS).map("".join), st.sampled_from(["the", "war", "1994", "April", "8", "."]))
TEXTS = st.lists(TOKENS, max_size=30).map(" ".join)
LANGUAGES = st.sampled_from([None, "en", "ru", "uk", "hy", "az", "tr", "fr", "de", "es", "pt", "ar", "xx"])


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS, LANGUAGES)
def test_lexicon_hits_equal_part_by_part_evaluation(title: str, body: str, language: str | None) -> None:
    for lexicon in LEXICONS:
        assert lexicon.hits(Document(title, body, language)) == reference_hits(lexicon, title, body, language)


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared corpus not present")
def test_lexicon_hits_on_the_dev_set() -> None:
    items = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    found = 0
    for item in items:
        title, body, language = item["title"], item.get("text") or "", item.get("lang")
        for lexicon in LEXICONS:
            hits = lexicon.hits(Document(title, body, language))
            assert hits == reference_hits(lexicon, title, body, language), (item["id"], lexicon.name)
            found += len(hits)
    assert found > 1000  # the comparison is not about empty sets


def test_a_full_lexicon_memory_starts_over_without_changing_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicons, "KNOWN_WORDS", 5)
    lexicon = Lexicon("test", {"en": ["violat*", "extend", "since", "oil"], "ru": ["перемири*"]})
    texts = [
        ("Ceasefire violated", "The truce was extended since oil prices fell. Extending it again.", "en"),
        ("Перемирие нарушено", "Стороны продлили перемирие после переговоров.", "ru"),
        ("Ceasefire violated", "Violations since 1994, extensions and oils.", None),
    ]
    for title, body, language in texts * 2:
        expected = reference_hits(lexicon, title, body, language)
        assert lexicon.hits(Document(title, body, language)) == expected and expected
        assert sum(map(len, lexicons._KNOWN.values())) <= 5 + len(Document(title, body).words())


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("az", "Bazar ertəsi günü qaçqınlar evlərinə qayıtdılar."),  # Monday: "the day after the market day"
        ("az", "Bazar günü atəşkəs pozulub."),  # Sunday
        ("tr", "Pazar günü ateşkes ihlal edildi."),  # Sunday
    ],
)
def test_a_weekday_named_after_the_market_is_a_day_not_a_market(language: str, body: str) -> None:
    doc = Document("", body, language)
    assert not ECONOMY.hits(doc)
    assert NOW.hits(doc) == {0}, doc.norms


def test_the_market_itself_still_counts_in_azerbaijani() -> None:
    doc = Document("", "Neft bazarında qiymətlər düşdü, bazarlar atəşkəsə reaksiya verdi.", "az")
    assert len(ECONOMY.hits(doc)) >= 3


@pytest.mark.parametrize(
    ("language", "body", "own", "own_body", "lexicon"),
    [
        # percent in Azerbaijani, interest in Turkish
        ("az", "Şəhərdə binaların 90 faiz dağılıb.", "tr", "Merkez bankası faiz oranını artırdı.", ECONOMY),
        # "parties" stems to the French "parti" (a political party)
        ("en", "Ministers urged the warring parties to talk.", "fr", "Le parti a quitté la coalition.", OTHER_SENSE),
    ],
)
def test_a_document_is_read_with_its_own_languages_words(
    language: str, body: str, own: str, own_body: str, lexicon: Lexicon
) -> None:
    assert not lexicon.hits(Document("", body, language))
    assert lexicon.hits(Document("", own_body, own))  # the word is still the list's in its own language


def test_a_lexicon_in_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no such lexicon language: xx"):
        Lexicon("test", {"xx": ["word"]})
