"""Query errors a user can act on: NEAR's bound, unknown fields, and how deep a query may nest."""

from __future__ import annotations

import pytest

from monitor.errors import QuerySyntaxError
from monitor.query import Matcher, Near, Phrase, Term, parse
from monitor.query.parser import MAX_DEPTH, MAX_NEAR
from monitor.records import WatchList


def error(text: str) -> str:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    return str(caught.value)


def test_near_distance_has_a_stated_bound() -> None:
    assert parse(f"a NEAR/{MAX_NEAR} b") == Near(Term("a"), Term("b"), MAX_NEAR)
    message = error("a NEAR/999999 b")
    assert f"NEAR distance must be 0..{MAX_NEAR}" in message and "position 2" in message
    assert "NEAR needs a distance" in error("a NEAR/x b")
    assert f"0..{MAX_NEAR}" in error("a NEAR/" + "9" * 5000 + " b")  # no int() of a 5,000-digit number
    assert "NEAR needs a distance" in error("a NEAR b")


@pytest.mark.parametrize("word", ["NEARBY", "NEAREST", "NEARLY"])
def test_an_upper_case_word_that_starts_with_near_is_a_word(word: str) -> None:
    assert parse(f"ceasefire {word}") == parse(f"ceasefire {word.lower()}")


@pytest.mark.parametrize("text", ["titel:ceasefire", "Titel:(a OR b)", "ceasefire titles: truce", "title:bdy:x"])
def test_an_unknown_field_is_an_error_naming_the_fields(text: str) -> None:
    message = error(text)
    assert "unknown field" in message and "title:" in message and "body:" in message
    assert "quote" in message  # how to search for a word with a colon instead


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"10:30"', Phrase((Term("10"), Term("30")))),
        ("10:30", Phrase((Term("10"), Term("30")), exact=False)),
        ('"titel:ceasefire"', Phrase((Term("titel"), Term("ceasefire")))),
        ("covid19:x", Phrase((Term("covid19"), Term("x")), exact=False)),
    ],
)
def test_a_colon_that_is_not_a_field_still_works(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "(" * n + "a" + ")" * n,
        lambda n: "NOT " * n + "a",
        lambda n: "title:" * n + "a",
        lambda n: "a" + " NEAR/1 a" * n,
    ],
    ids=["parentheses", "not", "fields", "near-chain"],
)
def test_nesting_is_bounded_with_a_clear_error(make: object) -> None:
    assert callable(make)
    deepest = make(MAX_DEPTH)  # as deep as allowed: parsed, and a matcher can use it
    parse(deepest)
    Matcher([WatchList("w", (deepest,), threshold=0)]).match("", "a a")
    for depth in (MAX_DEPTH + 1, 300, 10_000):
        assert f"query nested deeper than {MAX_DEPTH} levels at position " in error(make(depth))
    too_deep = make(MAX_DEPTH + 1)
    with pytest.raises(QuerySyntaxError) as caught:
        parse(too_deep)
    assert too_deep[caught.value.position] in "(Nt"  # at the parenthesis, NOT, NEAR or field one level too deep
