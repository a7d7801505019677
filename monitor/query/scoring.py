# ruff: noqa: RUF001 - the lexicons are deliberately multi-script
"""Relevance: tell a story about the watched subject from a passing mention of it.

Each sentence holding a mention counts by where it is (title > lead > rest), more when the sentence
talks about the subject's course (violations, extensions, proposals, negotiations...), much less when
the mention only dates something ("since the ceasefire", "before an April 8 ceasefire"), and less in
a story whose own topic is markets and the economy. The context lexicons are queries in the same
language as watch lists, so they fold and inflect like them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress, count

from monitor.query.document import TITLE, Document
from monitor.query.evaluator import evaluate, matches_word, stem_start
from monitor.query.nodes import Or, Prefix, Term
from monitor.query.parser import parse
from monitor.query.prefilter import QueryIndex
from monitor.query.text import script_of
from monitor.records import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD

TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 1.5
BODY_WEIGHT = 1.0
STAGE_BONUS = 0.75
BACKGROUND_FACTOR = 0.3
ECONOMY_FACTOR = 0.5
ECONOMY_SHARE = 0.025  # share of a document's words from the economy lexicon that makes it an economy story
BACKGROUND_WINDOW = 3  # words before a mention that may mark it as a date or time frame
STAGE_WINDOW = 6  # words either side of a mention where a word about the subject's course counts
START_KEY = 3  # lexicon words are filed under the first letters of the start every word they match shares
KNOWN_WORDS = 200_000  # words a lexicon remembers as its or not, over all languages (it starts over when full)


class Lexicon:
    """A context word list (an OR query) whose hits are computed once per document.

    Single words and prefixes are looked up word by word: which folded words are the list's (or
    inflections of them, in the document's language) is kept across documents in two sets per
    language, so a document mostly costs a set intersection. Phrases are evaluated as queries.
    """

    def __init__(self, name: str, query: str) -> None:
        node = parse(query)
        self.name = name
        self.parts = node.parts if isinstance(node, Or) else (node,)
        self.phrases = [p for p in self.parts if not isinstance(p, Term | Prefix)]
        self.index = QueryIndex()
        for phrase in self.phrases:
            self.index.add(phrase)
        self._by_start: dict[str, list[Term | Prefix]] = {}
        for part in self.parts:
            if isinstance(part, Term | Prefix):
                start = stem_start(part.text) if isinstance(part, Term) else part.text
                self._by_start.setdefault(start[:START_KEY], []).append(part)
        self._known: dict[str | None, tuple[set[str], set[str]]] = {}  # language -> (its words, other words)
        self._learned = 0  # words in self._known

    def hits(self, doc: Document) -> set[int]:
        """First token indices of this lexicon's words in ``doc``."""
        cached = doc.cache.get(self.name)
        if cached is None:
            words = self._words_in(doc)
            cached = set(compress(count(), map(words.__contains__, doc.norms))) if words else set()
            found = (evaluate(self.phrases[n], doc) for n in self.index.candidates(doc))
            cached.update(first for spans in found for first, _ in spans or [])
            doc.cache[self.name] = cached
        return cached  # type: ignore[return-value]

    def _words_in(self, doc: Document) -> set[str]:
        """The distinct folded words of ``doc`` that are one of the list's single words or prefixes."""
        words = doc.words()
        yes, no = self._known.setdefault(doc.language, (set(), set()))
        new = words.difference(yes, no)
        if new:
            self._learned += len(new)
            if self._learned > KNOWN_WORDS:
                self._known.clear()
                self._learned = len(new)
                yes, no = self._known.setdefault(doc.language, (set(), set()))
            for word in new:
                (yes if self._holds(doc, word) else no).add(word)
        return words & yes

    def _holds(self, doc: Document, word: str) -> bool:
        """Whether a folded word matches one of the list's single words or prefixes (as evaluate matches)."""
        parts = (p for size in range(START_KEY + 1) for p in self._by_start.get(word[:size], ()))
        return any(matches_word(p, word, doc.stem_lang(script_of(p.text))) for p in parts)


STAGE = Lexicon(
    "stage",
    # English
    "viol* OR breach* OR extend OR extended OR extending OR extension OR expire OR expires OR expiring"
    " OR implement* OR observe OR observing OR propos* OR negotiat* OR broker* OR mediat* OR demand*"
    ' OR request* OR urge OR urged OR urges OR "call for" OR "calls for" OR "called for" OR "press for"'
    ' OR "push for" OR "rule out" OR "ruled out" OR "ruling out" OR refus* OR reject* OR welcom*'
    " OR comply OR obligations OR collapse* OR undermin* OR strain OR persist OR seek OR seeking OR plan"
    " OR reach OR pressure OR despite OR covered OR include OR monitor* OR agree OR agreed OR agrees OR agreement"
    ' OR announce OR announced OR declare OR declared OR signed OR talks OR "took effect" OR "into effect"'
    ' OR "in force" OR "broke down" OR holding OR holds'
    # Russian, Ukrainian
    " OR наруш* OR продл* OR переговор* OR предлож* OR соглас* OR договор* OR призв* OR объяв* OR вступ*"
    " OR подпис* OR соблюд* OR срыв* OR порушен* OR порушив* OR продовж* OR домовл* OR домовил* OR пропози* OR оголос*"
    " OR дотрим* OR підпис*"
    # Armenian, Azerbaijani, Turkish, Arabic
    " OR խախտ* OR պահպան* OR համաձայն* OR հայտարար* OR pozu* OR pozar* OR pozdu* OR pozub* OR pozma* OR razılaş*"
    " OR elan OR riayət* OR ihlal* OR anlaş* OR ilan* OR خرق* OR انتهاك* OR تمديد OR اتفاق OR أعلن OR إعلان"
    # French, German, Spanish, Portuguese
    " OR respect* OR prolong* OR annonc* OR negoci* OR accord OR verletz*"
    " OR verstoss* OR bruch OR verlanger* OR vereinbar* OR einhalt* OR verhandl* OR gebrochen"
    " OR respet* OR anunci* OR acuerdo OR prorrog* OR acordo",
)
BACKGROUND = Lexicon(
    "background",
    'since OR before OR after OR following OR during OR amid OR announcement OR после OR "во время"'
    ' OR "с момента" OR після OR "під час" OR depuis OR apres OR avant OR pendant OR seit OR nach OR vor OR wahrend'
    " OR desde OR tras OR antes OR durante OR بعد OR منذ OR قبل OR خلال OR հետո OR sonra OR sonrasi",
)
ECONOMY = Lexicon(
    "economy",
    "oil OR crude OR brent OR prices OR price OR stocks OR shares OR investors OR markets OR market OR yields"
    " OR bonds OR inflation OR earnings OR fuel OR diesel OR gasoline OR petrol OR barrel OR barrels OR energy"
    " OR economy OR economic OR tax OR rates OR futures OR rally OR trading OR traders OR refinery OR refiners"
    " OR supply OR supplies OR fertiliser OR fertilizer OR airlines OR cargo OR tanker OR tankers OR shipping"
    " OR нефть OR нефти OR цены OR рынок OR рынки OR биржа OR акции OR экономика",
)


@dataclass(slots=True)
class Relevance:
    """A score with the reasons behind it, and the first mention that counted fully (body before title).

    ``counted`` holds, per sentence that counted, its first mention, why it counted and its weight;
    ``reasons`` words them (only explain needs that, so it is not done for every document).
    """

    score: float
    strong: int | None = None
    counted: list[tuple[int, str, float]] = field(default_factory=list)
    doc: Document | None = None

    @property
    def reasons(self) -> list[str]:
        """One line per sentence that counted: the mention as written, where it is, what it added."""
        doc = self.doc
        return [f"{doc.surface(first)!r} in {why}: +{weight:.2f}" for first, why, weight in self.counted] if doc else []


def relevance(doc: Document, mentions: list[int]) -> Relevance:
    """Score the mentions (token indices) a watch list found in ``doc``: each sentence with mentions counts once."""
    stage = STAGE.hits(doc)
    economy = _economy(doc)
    by_sentence: dict[int, list[int]] = {}
    for index in sorted(mentions):  # in text order, so the first strong mention is the earliest one
        by_sentence.setdefault(doc.sents[index], []).append(index)
    out = Relevance(0.0, doc=doc)
    for sid, indices in sorted(by_sentence.items()):
        first = indices[0]
        weight, why = _position(doc, sid)
        if any(_near(doc, i, stage) for i in indices):
            weight += STAGE_BONUS
            why += ", about its course"
        if _is_background(doc, first):
            weight *= BACKGROUND_FACTOR
            why += ", only as a time frame"
        elif out.strong is None or doc.fields[out.strong] == TITLE:
            out.strong = first
        if economy and doc.sentences[sid].field != TITLE:
            weight *= ECONOMY_FACTOR
            why += ", in an economy story"
        out.score += weight
        out.counted.append((first, why, weight))
    return out


def _position(doc: Document, sid: int) -> tuple[float, str]:
    sentence = doc.sentences[sid]
    if sentence.field == TITLE:
        return TITLE_WEIGHT, "the title"
    first_body = next(i for i, s in enumerate(doc.sentences) if s.field != TITLE)
    if sid == first_body:
        return LEAD_WEIGHT, "the lead"
    return BODY_WEIGHT, f"body sentence {sid - first_body + 1}"


def _near(doc: Document, index: int, marks: set[int]) -> bool:
    """A marked word within STAGE_WINDOW words of the mention, in the same sentence."""
    around = range(max(0, index - STAGE_WINDOW), min(len(doc.norms), index + STAGE_WINDOW + 1))
    return any(i in marks and doc.sents[i] == doc.sents[index] for i in around)


def _is_background(doc: Document, index: int) -> bool:
    """A time-frame word or a year just before or after the mention, or a date right before it (same sentence)."""
    marks = BACKGROUND.hits(doc)
    sentence = doc.sents[index]
    if index > 0 and doc.sents[index - 1] == sentence and _is_day(doc, index - 1):
        return True
    for before in range(max(0, index - BACKGROUND_WINDOW), index):
        if doc.sents[before] == sentence and (before in marks or _is_year(doc.norms[before])):
            return True
    after = range(index + 1, min(len(doc.norms), index + BACKGROUND_WINDOW + 1))
    return any(doc.sents[i] == sentence and _is_year(doc.norms[i]) for i in after)


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and word[:2] in ("19", "20")


def _is_day(doc: Document, index: int) -> bool:
    """A day number after a capitalised month name (an April 8 ceasefire)."""
    word = doc.norms[index]
    if not word.isdigit():
        return False
    previous = doc.surface(index - 1) if index > 0 and doc.sents[index - 1] == doc.sents[index] else ""
    return previous[:1].isupper() and previous.isalpha() and len(word) <= 2


def _economy(doc: Document) -> bool:
    """Whether the document's own topic is markets and the economy."""
    words = len(doc.norms)
    return bool(words) and len(ECONOMY.hits(doc)) / words >= ECONOMY_SHARE
