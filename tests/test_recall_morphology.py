# ruff: noqa: RUF001, RUF003 - multi-script test data
"""Morphology in matching (monitor.query.morphology): Arabic proclitics and endings, German compounds,
Turkish/Azerbaijani suffix chains, Armenian endings. Both ways per language, and properties: an affix
is only ever seen through at a word's edge, the fast word test agrees with evaluation, and the
prefilter never skips a query for a document it matches."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from monitor.query import parse
from monitor.query.document import Document
from monitor.query.evaluator import evaluate, matches_word, word_positions
from monitor.query.morphology import arabic_readings, suffixed
from monitor.query.nodes import Term
from monitor.query.prefilter import QueryIndex
from monitor.query.text import fold, script_of


def hits(query: str, text: str, language: str | None = None) -> bool:
    """Whether the query matches the text (a body), no relevance involved."""
    return evaluate(parse(query), Document("", text, language)) is not None


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # proclitics و ف ب ل ك and the article, in chains
        ("هدنة", "وبالهدنة التي أعلنت أمس", True),
        ("هدنة", "فالهدنة لم تصمد طويلا", True),
        ("هدنة", "دعا للهدنة في غزة", True),
        ("هدنة", "رحب الطرفان والهدنة قائمة", True),
        ("هدنة", "اتفقوا على هدنة إنسانية", True),
        ("الهدنة", "دعا للهدنة في غزة", True),
        ("الهدنة", "وبالهدنة التي أعلنت أمس", True),
        ("الهدنة", "اتفقوا على هدنة إنسانية", False),  # the article asked for
        # endings: a pronoun (ة written ت), the dual, the plural, ة typed ه
        ("هدنة", "أعلنت الحكومة هدنتها الأولى", True),
        ("هدنة", "بعد الهدنتين السابقتين", True),
        ("هدنة", "سلسلة هدنات قصيرة", True),
        ("هدنة", "تم الاتفاق على هدنه", True),
        ("وقف", "دعوات لوقف الحرب", True),
        # a letter that is not a proclitic, or an ending that is not one, is another word
        ("وقف", "أعلن موقفه من الحرب", False),
        ("وقف", "توقفت المفاوضات", False),
        ("نار", "أطلقت ألعاب نارية", False),
        ("نار", "شيدت منارة جديدة", False),
        # quoted words see through the proclitics and article only
        ('"وقف إطلاق النار"', "دعا لوقف إطلاق النار فورا", True),
        ('"هدنة"', "أعلنت الحكومة هدنتها الأولى", False),
    ],
)
def test_arabic_clitics_and_endings(query: str, text: str, expected: bool) -> None:
    assert hits(query, text, "ar") is expected


@pytest.mark.parametrize(
    ("query", "text", "language", "expected"),
    [
        ("waffenruhe", "Die Osterwaffenruhe wurde gebrochen.", "de", True),
        ("waffenruhe", "Eine Teilwaffenruhe gilt seit Montag.", "de", True),
        ("waffenruhe", "Beide Seiten sprechen über Teilwaffenruhen.", "de", True),
        ("feuerpause", "Die Feuerpausen halten nicht.", "de", True),
        ("waffenstillstand", "Die Verletzung des Waffenstillstandes wurde gemeldet.", "de", True),
        ("waffenstillstand", "Das Waffenstillstands-Abkommen gilt.", "de", True),
        ("angriffe", "Neue Drohnenangriffe auf Kiew.", "de", True),
        # the tail must end the word, after a real head: not a verb prefix or particle
        ("waffenruhe", "Die Waffenruhezeit endet heute.", "de", False),
        ("handlung", "Die Behandlung dauert an.", "de", False),
        ("handlung", "Die Misshandlung wurde angezeigt.", "de", False),
        # only in German text
        ("waffenruhe", "Officials said the Osterwaffenruhe collapsed overnight.", "en", False),
        ("fighting", "Firefighting crews arrived overnight.", "en", False),
    ],
)
def test_german_compounds(query: str, text: str, language: str, expected: bool) -> None:
    assert hits(query, text, language) is expected


@pytest.mark.parametrize(
    ("query", "text", "language", "expected"),
    [
        # a word written with Turkish letters takes the chains in any document, also with no language
        ("ateşkes", "Taraflar ateşkese uydu.", None, True),
        ("ateşkes", "Ateşkesin ardından", None, True),
        ("ateşkes", "ateşkesten sonra", None, True),
        ("ateşkes", "ateşkesinin ihlali", None, True),
        ("ateşkes", "Atəşkəsə əməl olunmur", None, True),
        ("ateşkes", "Ateşkesler bozuldu", "en", True),
        # a folded word takes them in a Turkish or Azerbaijani document
        ("ateskes", "Taraflar ateşkese uydu.", "tr", True),
        ("ateskes", "Atəşkəsə əməl olunmur", "az", True),
        ("ateskes", "Taraflar ateşkese uydu.", "en", False),
        # a final k softens before a vowel (Turkish ğ, Azerbaijani y)
        ("yasak", "Uçuş yasağı kaldırıldı", "tr", True),
        ("istək", "Xalqın istəyi nəzərə alınmadı", None, True),
        # an ending that is not a suffix chain is another word
        ("savaş", "Savaşçılar geri çekildi", "tr", False),
        ("ateşkes", "ateşkesçiler", "tr", False),
        # English words are not read as Turkish: Israeli, driven, LinkedIn
        ("israel", "Israeli troops withdrew", "en", False),
        ("drive", "Prices were driven up", None, False),
        ("linked", "on LinkedIn", None, False),
    ],
)
def test_turkish_and_azerbaijani_suffix_chains(query: str, text: str, language: str | None, expected: bool) -> None:
    assert hits(query, text, language) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("հրադադար", "Ադրբեջանը խախտել է հրադադարի ռեժիմը", True),
        ("հրադադար", "Հրադադարը խախտվել է", True),
        ("հրադադար", "հրադադարից հետո", True),
        ("հրադադար", "հրադադարում ոչինչ չի փոխվել", True),
        ("հրադադար", "հրադադարների մասին", True),
        ("զինադադար", "զինադադարով ավարտվեց", True),
        ("դադարեցում", "կրակի դադարեցման մասին", True),
        ("կրակ", "կրակի դադարեցում", True),
        ("դադար", "հրադադարը խախտվել է", False),  # a word inside another is another word
        ("դադար", "հրադադարից հետո", False),
    ],
)
def test_armenian_endings(query: str, text: str, expected: bool) -> None:
    assert hits(query, text, "hy") is expected


# -- properties ------------------------------------------------------------------------------------

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويةى"
NOT_PROCLITIC = "تثجحخدذرزسشصضطظعغقمنهيى"  # no و ف ب ل ك, no alef (the article)
NOT_ENDING = "بثجحخدذرزسشصضطظعغفقكلموى"  # no ت ه ن ا ة ي: no pronoun, plural, dual or ة begins so


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=ARABIC, min_size=3, max_size=7),
    st.text(alphabet=NOT_PROCLITIC, min_size=1, max_size=3),
    st.text(alphabet=NOT_ENDING, min_size=1, max_size=3),
)
def test_arabic_affixes_are_seen_through_only_at_the_word_edge(word: str, before: str, after: str) -> None:
    term = Term(fold(word))
    for other in (before + word, word + after, before + word + after):
        assert not matches_word(term, fold(other), None), other
    for clitic in ("و", "ف", "ب", "ل", "ك", "وب", "ال", "وال", "بال"):
        assert term.text in arabic_readings(fold(clitic + word)), clitic


LATIN = "abcdefghiklmnoprstuvwyz"
NOT_SUFFIX = "hjqwx"  # no Turkish, Azerbaijani, German, French ("-if"), Spanish or English ("-ful") ending begins so


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=LATIN, min_size=6, max_size=10),
    st.text(alphabet=LATIN, min_size=1, max_size=5),
    st.text(alphabet=NOT_SUFFIX, min_size=1, max_size=3),
    st.sampled_from([None, "en", "de", "tr", "az", "fr", "es"]),
)
def test_latin_affixes_are_seen_through_only_at_the_word_edge(
    word: str, head: str, junk: str, language: str | None
) -> None:
    for query in (word, f"{word[:2]}ş{word[2:]}"):  # folded, and written with a Turkish letter
        written = fold(query)
        assume(not (head + written).startswith(written))  # a head that only repeats the word's letters
        assert not hits(query, f"x {written}{junk} y", language), (query, junk)
        assert not hits(query, f"x {head}{written}{junk} y", language), (query, head, junk)
        if language != "de":
            assert not hits(query, f"x {head}{written} y", language), (query, head)
    assert hits(word, f"x {'kriegs' + word} y", "de")  # a compound head in German text


ARMENIAN = "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=ARMENIAN, min_size=4, max_size=9), st.text(alphabet="փքֆխծճ", min_size=1, max_size=3))
def test_armenian_endings_only_at_the_word_edge(word: str, junk: str) -> None:
    assert not suffixed("hy", word, word + junk)
    assert not hits(word, f"x {junk}{word} y", "hy")
    assert suffixed("hy", word, word + "ների")


# -- the fast word test and the prefilter agree with evaluation -------------------------------------

TERMS = [
    "هدنة", "الهدنة", "وقف", "النار", "waffenruhe", "feuerpause", "angriffe", "ateşkes", "ateskes", "savaş",
    "հրադադար", "դադարեցում", "կրակ", "truce", "перемирие", "cessez",
]  # fmt: skip
FORMS = [
    "وبالهدنة", "للهدنة", "هدنتها", "الهدنتين", "لوقف", "بالنار", "موقف", "منارة", "Osterwaffenruhe",
    "Teilwaffenruhen", "Feuerpausen", "Luftangriffe", "Waffenruhezeit", "Misshandlung", "ateşkese", "atəşkəsdən",
    "ateşkesinin", "savaşçı", "savaşta", "հրադադարի", "դադարեցման", "կրակոց", "truces", "untruced",
    "перемирия", "cessez-le-feu", "x", "1994", ".",
]  # fmt: skip
LANGUAGES = st.sampled_from([None, "en", "de", "tr", "az", "hy", "ar", "ru", "fr"])
TEXTS = st.lists(st.sampled_from(FORMS + TERMS), max_size=12).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TERMS), TEXTS, LANGUAGES)
def test_the_word_test_finds_what_evaluation_finds(term: str, text: str, language: str | None) -> None:
    node = parse(term)
    assert isinstance(node, Term)
    doc = Document("", text, language)
    found = {doc.norms[i] for i in word_positions(node, doc)}
    lang = doc.stem_lang(script_of(node.text))
    assert found == {w for w in doc.words() if matches_word(node, w, lang)}


QUERIES = st.recursive(
    st.sampled_from(TERMS),
    lambda kids: st.one_of(
        st.tuples(kids, kids).map(lambda ab: f"({ab[0]}) OR ({ab[1]})"),
        st.tuples(kids, kids).map(lambda ab: f"({ab[0]}) ({ab[1]})"),
        st.tuples(kids, kids, st.integers(0, 3)).map(lambda abn: f"({abn[0]}) NEAR/{abn[2]} ({abn[1]})"),
    ),
    max_leaves=4,
)


@pytest.mark.parametrize(
    ("query", "text", "language"),
    [
        ("waffenruhe", "Die Osterwaffenruhe hält.", "de"),  # no word starts as the query word does
        ("هدنة", "خرق جديد للهدنة", "ar"),
        ("ateşkes", "Taraflar ateşkese uydu.", None),
        ("yasak", "Uçuş yasağı kaldırıldı", "tr"),
        ("դադարեցում", "կրակի դադարեցման մասին", "hy"),
    ],
)
def test_the_prefilter_hands_out_a_query_matched_through_an_affix(query: str, text: str, language: str | None) -> None:
    index = QueryIndex()
    index.add(parse(query))
    doc = Document("", text, language)
    assert evaluate(parse(query), doc) is not None
    assert index.candidates(doc) == [0]


@settings(max_examples=150, deadline=None)
@given(st.lists(QUERIES, min_size=1, max_size=6), TEXTS, TEXTS, LANGUAGES)
def test_the_prefilter_never_skips_a_query_that_matches(
    queries: list[str], title: str, body: str, language: str | None
) -> None:
    index = QueryIndex()
    nodes = [parse(q) for q in queries]
    for node in nodes:
        index.add(node)
    doc = Document(title, body, language)
    matching = {n for n, node in enumerate(nodes) if evaluate(node, doc) is not None}
    assert matching <= set(index.candidates(doc))
