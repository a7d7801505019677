# ruff: noqa: RUF001 - multi-script test data
"""Matching: word boundaries, folding, inflections, operators, field scope, exclusions, explain, speed paths."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from monitor.errors import QuerySyntaxError
from monitor.query import DEFAULT_THRESHOLD, Matcher, explain, parse
from monitor.query.document import Document
from monitor.query.evaluator import evaluate
from monitor.query.morphology import ARTICLE, MIN_COMPOUND_HEAD, PROCLITICS
from monitor.query.text import ARABIC, fold, script_of
from monitor.records import WatchList


def hits(query: str, body: str, title: str = "", language: str | None = None) -> bool:
    """Whether the query matches at all (no relevance threshold)."""
    return evaluate(parse(query), Document(title, body, language)) is not None


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("truce", "The truce held overnight.", True),
        ("truce", "An untruced border.", False),
        ("truce", "Truces were agreed twice.", True),
        ("ceasefire", "Several ceasefires collapsed.", True),
        ("ceasefire", "A cease-fire was declared.", False),
        ("cease-fire", "A cease-fire was declared.", True),
        ("cease-fire", "A cease fire was declared.", True),
        ('"cease fire"', "They were cease-fired upon.", False),
        ("ceasefire", "cease-fired-upon nonsense", False),
        ("fire", "Firefighters battled the blaze.", False),
        ("violat*", "Both sides violated it.", True),
        ("violat*", "Nonviolation pacts.", False),
        ("ateskes", "Atəşkəs rejimi pozulub.", True),
        ("atəşkəs*", "Ermənistan atəşkəsi pozub.", True),
        ("ateşkes*", "Taraflar ateşkese uydu.", True),
        ("ёлка", "Новогодняя елка", True),
        ("перемирие", "Нарушение перемирия продолжается.", True),
        ("перемирие", "Перемирием это не назовёшь.", True),
        ("йод", "иод", False),
        ("հրադադար*", "Հրադադարի ռեժիմը խախտվել է։", True),
        ("trêve", "La treve a ete violee.", True),
        ("هدنة", "هُدْنَةٌ إنسانية", True),
        ('"وقف إطلاق النار"', "اتفاق وقف اطلاق النار", True),
        ('"وقف إطلاق النار"', "جريمة إطلاق نار", False),
        ("u.s.", "The U.S. said so.", True),
    ],
)
def test_word_matching(query: str, text: str, expected: bool) -> None:
    assert hits(query, text) is expected


def test_stemming_follows_the_document_language() -> None:
    assert hits("ceasefire", "ceasefires", language="en")
    assert not hits('"ceasefire"', "ceasefires", language="en")
    assert hits("waffenruhe", "Die Waffenruhen halten.", language="de")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ceasefire AND violated", True),
        ("ceasefire violated", True),
        ("ceasefire AND armistice", False),
        ("ceasefire OR armistice", True),
        ("ceasefire NOT violated", False),
        ("NOT armistice", True),
        ("(armistice OR truce) AND ceasefire", False),
        ("(armistice OR violated) AND ceasefire", True),
        ("ceasefire NEAR/2 violated", True),
        ("ceasefire NEAR/1 violated", False),
        ("violated NEAR/2 ceasefire", True),
        ("ceasefire NEAR/3 (violated OR armistice)", True),
        ('"ceasefire was violated"', False),
        ('"ceasefire had been violated"', True),
        ("title:ceasefire", False),
        ("body:ceasefire", True),
        ("title:talks", True),
        ("title:talks AND body:ceasefire", True),
        ("title:(talks NEAR/3 ceasefire)", False),
        ("talks NEAR/40 ceasefire", False),
    ],
)
def test_operators_and_field_scope(query: str, expected: bool) -> None:
    title = "Talks resume in Doha"
    body = "The ceasefire had been violated twice on Sunday."
    assert hits(query, body, title) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("The signal halted trains and attacks on banks followed.", True),
        ("The signal halted train operations. Attackers blasted the anthem over the radio.", False),
        ("Hackers halted it\n\nAttacks on banks followed.", False),
    ],
)
def test_near_stays_within_one_sentence(body: str, expected: bool) -> None:
    assert hits("halt* NEAR/3 attack*", body) is expected


def watchlist(*queries: str, exclude: tuple[str, ...] = (), threshold: float = 0.0) -> WatchList:
    return WatchList(name="w", queries=queries, exclude=exclude, threshold=threshold)


def test_exclusion_vetoes_the_article() -> None:
    matcher = Matcher([watchlist("truce", exclude=('"trade truce"',))])
    assert matcher.match("US and China extend trade truce", "") == []
    assert [m.watchlist for m in matcher.match("Truce holds in Gaza", "")] == ["w"]


def test_match_reports_query_terms_snippet_and_score() -> None:
    matcher = Matcher([watchlist("armistice", "ceasefire NEAR/5 violat*", threshold=DEFAULT_THRESHOLD)])
    body = "Shelling was heard overnight. Officials said the ceasefire was violated near the border. More later."
    [match] = matcher.match("Border news", body)
    assert match.query == "ceasefire NEAR/5 violat*"
    assert match.terms == ("ceasefire", "violated")
    assert match.snippet == "Officials said the ceasefire was violated near the border. More later."
    assert DEFAULT_THRESHOLD <= match.score < 1.0


def test_threshold_separates_a_passing_mention() -> None:
    matcher = Matcher([watchlist("ceasefire", threshold=DEFAULT_THRESHOLD)])
    background = "The road runs through land held since the 1994 ceasefire. It opens next month to all traffic."
    story = "Both sides accused each other of violating the ceasefire on Sunday."
    assert matcher.match("New highway opens", background) == []
    assert len(matcher.match("Border clashes", story)) == 1
    [titled] = matcher.match("Ceasefire holds", "")
    assert titled.snippet == "Ceasefire holds"
    [both] = matcher.match("Ceasefire holds", story)
    assert both.snippet == story  # the body is quoted when it has a mention


def test_scoped_and_unscoped_uses_of_a_word_share_one_document() -> None:
    queries = ('"truce"', "truce", "title:truce", "body:truce", 'title:"truce"', "body:truce*")
    matcher = Matcher([watchlist(q) for q in queries])
    found = matcher.match("Truce talks", "No word here.")
    assert [m.query for m in found] == ['"truce"', "truce", "title:truce", 'title:"truce"']
    assert all(m.terms == ("Truce",) for m in found)


def test_matcher_rejects_bad_queries_up_front() -> None:
    with pytest.raises(QuerySyntaxError):
        Matcher([watchlist("truce AND")])


def test_queries_without_required_words_are_still_evaluated() -> None:
    matcher = Matcher([watchlist("NOT armistice", threshold=0.0)])
    assert len(matcher.match("Anything", "at all")) == 1


def test_explain_gives_terms_with_positions() -> None:
    title = "Truce talks"
    body = "Mediators said the truce was violated."
    result = explain("truce NEAR/4 violat*", title, body, threshold=DEFAULT_THRESHOLD)
    assert result.matched
    assert [(t.text, t.field, t.start, t.end) for t in result.terms] == [
        ("truce", "body", 19, 24),
        ("violated", "body", 29, 37),
    ]
    assert body[19:24] == "truce"
    rendered = result.render()
    assert "MATCH" in rendered and "violated" in rendered and "19-24" in rendered
    missed = explain("armistice", title, body)
    assert not missed.matched and "no query matched" in missed.render()


def test_matcher_explains_each_watchlist() -> None:
    lists = [watchlist("truce", threshold=1.0), WatchList(name="other", queries=("armistice",))]
    first, second = Matcher(lists).explain("Truce holds", "The truce held.")
    assert not first.matched and first.score > 0 and any("threshold" in r for r in first.reasons)
    assert not second.matched and second.score == 0


SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzéüşəç",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщыьэюяіїє",
    "armenian": "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويةىأإ",
}


@st.composite
def word_inside_word(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    letters = SCRIPTS[draw(st.sampled_from(sorted(SCRIPTS)))]
    word = draw(st.text(alphabet=letters, min_size=2, max_size=9))
    before = draw(st.text(alphabet=letters, min_size=1, max_size=4))
    after = draw(st.text(alphabet=letters, max_size=4))
    language = draw(st.sampled_from([None, "en", "ru", "uk", "hy", "ar", "tr", "az", "fr", "de", "es"]))
    return word, before, after, language


def written_on(before: str, word: str, language: str | None) -> bool:
    """Whether ``before`` is what the language writes onto a word, which matching sees through
    (Arabic proclitics and article, German compound heads: tests/test_recall_morphology.py)."""
    if script_of(word) == ARABIC:
        return before in {clitic + article for clitic in PROCLITICS for article in ("", ARTICLE, "ل")}
    return language == "de" and len(before) >= MIN_COMPOUND_HEAD


@settings(max_examples=300, deadline=None)
@given(word_inside_word())
def test_folding_and_stemming_never_match_inside_another_word(case: tuple[str, str, str, str]) -> None:
    word, before, after, language = case
    folded = fold(word)
    assume(folded and not fold(before + word + after).startswith(folded))
    assume(not written_on(fold(before), folded, language))
    for query in (word, f"{word}*", f'"{word}"'):
        assert not hits(query, f"x {before}{word}{after} y", language=language), query
    assert hits(word, f"x {word} y", language=language)


CEASEFIRE_MATCHER = Matcher([watchlist("ceasefire OR перемири* OR հրադադար* OR هدنة", exclude=("NOT war",))])
PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["ceasefire", "Ceasefire's", "war", "перемирия", "հրադադարը", "هُدْنَة", ". ", "\n\n", "1994"]),
)
TEXTS = st.lists(PIECES, max_size=60).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS, st.sampled_from([None, "en", "ru", "hy", "ar", "az", "xx-YY", ""]))
def test_matching_any_text_never_crashes(title: str, body: str, language: str | None) -> None:
    for match in CEASEFIRE_MATCHER.match(title, body, language):
        assert match.terms and all(term in title or term in body for term in match.terms)
        assert len(match.snippet) <= 400


def test_a_dated_event_is_not_a_time_frame() -> None:
    matcher = Matcher([watchlist("ceasefire", threshold=DEFAULT_THRESHOLD)])
    event = "Azerbaijan on Tuesday, July 4 violated the ceasefire on the contact line."
    background = "Prices fell after an April 8 ceasefire. Shares rose."
    assert len(matcher.match("Border report", event)) == 1
    assert matcher.match("Market report", background) == []
