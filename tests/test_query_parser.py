# ruff: noqa: RUF001 - multi-script test data
"""The query language: operators, precedence, errors with positions, round-trips (with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import QuerySyntaxError
from monitor.query import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term, parse
from monitor.query.text import fold

T = Term


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("truce", T("truce")),
        ("Atəşkəs", T("ateskes", "Atəşkəs")),  # written with Turkic letters: takes their suffix chains
        ("ПЕРЕМИРИЁ", T("перемирие")),
        ("violat*", Prefix("violat")),
        ('"cease fire"', Phrase((T("cease"), T("fire")))),
        ('"fire"', Phrase((T("fire"),))),
        ("cease-fire", Phrase((T("cease"), T("fire")), exact=False)),
        ('"ceasefire viol*"', Phrase((T("ceasefire"), Prefix("viol")))),
        ("a b", And((T("a"), T("b")))),
        ("a AND b OR c", Or((And((T("a"), T("b"))), T("c")))),
        ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
        ("a NOT b", And((T("a"), Not(T("b"))))),
        ("NOT NOT a", Not(Not(T("a")))),
        ("(a OR b) c", And((Or((T("a"), T("b"))), T("c")))),
        ("ceasefire NEAR/8 violat*", Near(T("ceasefire"), Prefix("violat"), 8)),
        ("a NEAR/1 b NEAR/2 c", Near(Near(T("a"), T("b"), 1), T("c"), 2)),
        ("a NEAR/3 b OR c", Or((Near(T("a"), T("b"), 3), T("c")))),
        ("title:truce", Field("title", T("truce"))),
        ("Title:(a OR b)", Field("title", Or((T("a"), T("b"))))),
        ("body:violat*", Field("body", Prefix("violat"))),
        ("and or not", And((T("and"), T("or"), T("not")))),
    ],
)
def test_parse(text: str, expected: Query) -> None:
    assert parse(text) == expected
    assert parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("   ", 3),
        ("(truce", 6),
        ("truce)", 5),
        ("truce AND", 9),
        ("OR truce", 0),
        ('"cease fire', 0),
        ('""', 0),
        ("truce NEAR/x fire", 6),
        ("truce NEAR fire", 6),
        ("tru*ce", 0),
        ("a -*", 2),
        ("***", 0),
        ("title:", 6),
        ("()", 1),
        ("a NEAR/3 NOT b", 9),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    assert caught.value.position == position
    assert caught.value.query == text


QUERY_ALPHABET = st.sampled_from(list('ab Ёё()"*:/-ANDORTNEA3 tiletbody\u0301ը\u064eهé\t'))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(alphabet=QUERY_ALPHABET, max_size=30)))
def test_any_input_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        query = parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        return
    assert parse(str(query)) == query


LETTERS = (
    "abcdefghijklmnopqrstuvwxyzäöüéèêçñşğıə"
    "абвгдеёжзийклмнопрстуфхцчшщыьэюяіїєґ"
    "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ"
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويةى"
)
WORDS = st.text(alphabet=LETTERS, min_size=1, max_size=8).map(fold).filter(lambda w: parse(w) == Term(w))


def _nodes() -> st.SearchStrategy[Query]:
    leaves: st.SearchStrategy[Query] = st.one_of(
        WORDS.map(Term),
        WORDS.map(Prefix),
        st.lists(WORDS.map(Term), min_size=1, max_size=3).map(lambda ws: Phrase(tuple(ws))),
        st.lists(WORDS.map(Term), min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws), exact=False)),
    )
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, min_size=2, max_size=3).map(lambda ps: And(tuple(ps))),
            st.lists(kids, min_size=2, max_size=3).map(lambda ps: Or(tuple(ps))),
            kids.map(Not),
            st.builds(Near, kids, kids, st.integers(0, 20)),
            st.builds(Field, st.sampled_from(["title", "body"]), kids),
        ),
        max_leaves=8,
    )


@settings(max_examples=150, deadline=None)
@given(_nodes())
def test_every_node_round_trips(node: Query) -> None:
    assert parse(str(node)) == node
