# ruff: noqa: RUF001, RUF003 - look-alike letters are the point
"""Folding of look-alikes: compatibility forms (NFKC), Latin/Cyrillic homoglyphs, apostrophes in Cyrillic words."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from monitor.query.document import Document
from monitor.query.evaluator import evaluate
from monitor.query.parser import parse
from monitor.query.text import fold, words

CYRILLIC_E, CYRILLIC_A, CYRILLIC_O, CYRILLIC_ES, CYRILLIC_I = "\u0435", "\u0430", "\u043e", "\u0441", "\u0456"
LATIN_P, LATIN_E, LATIN_A = "p", "e", "a"


def hits(query: str, body: str, language: str | None = None) -> bool:
    return evaluate(parse(query), Document("", body, language)) is not None


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (f"c{CYRILLIC_E}asefire", "ceasefire"),  # one Cyrillic е in a Latin word
        (f"{CYRILLIC_ES}{CYRILLIC_E}{CYRILLIC_A}sefire", "ceasefire"),  # three of them: f, r are Latin-only
        ("C\u0415ASEFIRE", "ceasefire"),  # upper case
        ("ｃｅａｓｅｆｉｒｅ", "ceasefire"),  # fullwidth
        ("ＣＥＡＳＥＦＩＲＥ", "ceasefire"),
        ("cease\ufb01re", "ceasefire"),  # the fi ligature
        (f"переми{LATIN_P}ие", "перемирие"),  # a Latin p in a Cyrillic word
        ("ПEРEМИРИЕ", "перемирие"),  # Latin E twice
        (f"{LATIN_A}пар{LATIN_A}т", "апарат"),
        ("Украïна", "україна"),  # Latin ï for Ukrainian ї
        ("\ufeeb\ufeaa\ufee7\ufe94", "هدنة"),  # Arabic presentation forms
    ],
)
def test_look_alikes_fold_to_the_plain_word(written: str, expected: str) -> None:
    assert fold(written) == expected
    assert words(f"the {written}.") == ["the", expected]


@pytest.mark.parametrize(
    "word",
    [
        "ceasefire",
        "BBC",
        "\u0412\u0412\u0421",  # ВВС in Cyrillic letters only: one script, left alone
        "перемирие",
        "coca",
        "соса",  # Cyrillic only
    ],
)
def test_a_word_in_one_script_keeps_its_letters(word: str) -> None:
    assert fold(word) == word.casefold()


def test_a_tie_between_the_scripts_leaves_the_word_alone() -> None:
    mixed = f"c{CYRILLIC_O}"  # one look-alike of each script: no majority
    assert fold(mixed) == mixed


def test_queries_and_documents_fold_alike() -> None:
    assert hits("ceasefire", f"A c{CYRILLIC_E}asefire was agreed.", "en")
    assert hits("ceasefire*", "ｃｅａｓｅｆｉｒｅｓ held", "en")
    assert hits(f"c{CYRILLIC_E}asefire", "A ceasefire was agreed.", "en")  # a look-alike in the query
    assert hits("перемирие", f"Объявлено переми{LATIN_P}ие.", "ru")
    assert hits("ceasefire", f"{CYRILLIC_ES}easefires were violated", "en")  # inflections as usual
    assert not hits("fire", f"ｃｅａｓｅｆｉｒｅ c{CYRILLIC_E}asefire", "en")  # folded, still one word


APOSTROPHES = ["'", "\u2019", "\u02bc", "\u02bb", "`"]


@pytest.mark.parametrize("apostrophe", APOSTROPHES)
def test_an_apostrophe_in_a_cyrillic_word_is_part_of_it(apostrophe: str) -> None:
    written = f"перемир{apostrophe}я"
    assert words(f"Про {written}, кажуть.") == ["про", "перемиря", "кажуть"]
    for query in ("перемир*", "перемир'я", "перемир’я", "перемирʼя", "перемиря"):
        assert hits(query, f"Оголошено {written} на Донбасі.", "uk"), query
        assert hits(query, f"Оголошено {written} на Донбасі.", "ru"), query
    assert hits("перемир'я", f"Порушення {written.replace('я', 'ям')} тривають", "uk")  # an inflection
    assert not hits("я", f"Оголошено {written}.", "uk")  # no longer a word of its own
    assert not hits("мир*", f"Оголошено {written}.", "uk")


def test_apostrophes_elsewhere_still_split_words() -> None:
    assert words("Ceasefire's terms") == ["ceasefire", "s", "terms"]
    assert words("don’t Facebook'ом 'перемир'я'") == ["don", "t", "facebook", "ом", "перемиря"]
    assert hits("ceasefire", "The ceasefire’s terms", "en")


# Look-alike pairs: a Latin letter and the Cyrillic letter drawn the same.
PAIRS = dict(zip("aceopxyiABCEHIKMOPTXY", "асеорхуіАВСЕНІКМОРТХУ", strict=True))
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
CYRILLIC_LETTERS = "абвгдежзийклмнопрстуфхцчшщыьэюяіїєАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЫЬЭЮЯІЇЄ"
OPERATOR = re.compile("AND$|OR$|NOT$|NEAR")  # upper-case query operators, not words
SWAP = {**PAIRS, **{cyrillic: latin for latin, cyrillic in PAIRS.items()}}


def disguise(draw: st.DrawFn, word: str) -> str:
    """``word`` as it could be typed: fewer than half its letters swapped for their look-alikes in the other
    script (so its script keeps the majority), any of its ASCII letters fullwidth, apostrophes between
    Cyrillic letters."""
    out, swapped = [], 0
    for char in word:
        how = draw(st.sampled_from(("same", "same", "swap", "wide")))
        if how == "swap" and char in SWAP and 2 * (swapped + 1) < len(word):
            swapped += 1
            out.append(SWAP[char])
        elif how == "wide" and char.isascii():
            out.append(chr(ord(char) + 0xFEE0))
        else:
            out.append(char)
        if len(out) > 1 and out[-2] in CYRILLIC_LETTERS and out[-1] in CYRILLIC_LETTERS:
            out[-1:-1] = draw(st.sampled_from([[], [], [], *[[a] for a in APOSTROPHES]]))
    return "".join(out)


@st.composite
def word_inside_word(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    """A query word, and a longer word that holds it after a start, each disguised on its own."""
    letters = draw(st.sampled_from([LATIN_LETTERS, CYRILLIC_LETTERS]))
    word = draw(st.text(alphabet=letters, min_size=2, max_size=8).filter(lambda w: not OPERATOR.match(w)))
    before = draw(st.text(alphabet=letters, min_size=1, max_size=4))
    longer = before + word + draw(st.text(alphabet=letters, max_size=4))
    # Not German, where matching may see a word as the last part of a compound (Feuerpause: pause).
    language = draw(st.sampled_from([None, "en", "ru", "uk", "fr", "es", "tr"]))
    return word, disguise(draw, word), disguise(draw, longer), language


@settings(max_examples=300, deadline=None)
@given(word_inside_word())
def test_look_alikes_never_make_a_query_match_inside_another_word(case: tuple[str, str, str, str | None]) -> None:
    word, typed, longer, language = case
    assume(not fold(longer).startswith(fold(word)))
    for query in (word, typed):
        for written in (query, f"{query}*", f'"{query}"'):
            assert not hits(written, f"x {longer} y", language), written
        assert hits(query, f"x {word} y", language)
        assert hits(query, f"x {typed} y", language)
