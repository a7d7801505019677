"""Relevance features: what the matcher sees around a watch list's mentions in one document.

The same features for every language (the lexicons behind them are per language), so a model fitted
on one language's stories helps another's. Each is a number, mostly a share between 0 and 1.
Context words are counted outside the mentions: in "a moratorium on strikes on energy sites" the
query matched "energy", which is then the subject, not a market word.

| name | what |
|---|---|
| ``title`` | a mention in the title |
| ``title_war`` | the title speaks of armed conflict, or of a ceasefire's course or violation |
| ``lead`` | a mention in the first body sentence |
| ``early`` | a mention in the first three body sentences |
| ``sentences`` | log(1 + body sentences with a mention) |
| ``density`` | share of the body's sentences with a mention |
| ``late`` | where the first body mention stands in the body (0 first sentence .. 1 last; 1 when none) |
| ``violation`` | share of mention sentences with a word of violation or collapse near a mention |
| ``now`` | share of mention sentences that say today, yesterday or a weekday |
| ``dated`` | share of mention sentences that name a year or a span of years ("for 30 years") |
| ``background`` | share of mention sentences whose mention only dates or frames something (unless violated) |
| ``conflict_near`` | share of mention sentences with armed-conflict words |
| ``conflict`` | log(1 + armed-conflict words in the document) / log(50) |
| ``economy`` | the document's share of market and economy words, relative to 5% (at most 1) |
| ``other_sense`` | share of mention sentences with words of another sense (sport, politics, trade, culture ...) |
| ``other_doc`` | the document's share of such words, relative to 3% (at most 1) |
| ``headline_line`` | share of body mention sentences that are a bare line (a related-story link, a list item) |
| ``queries`` | log(1 + distinct queries that matched) |
| ``war_only`` | the mention in every mention sentence names the war as a whole ("stop the war", "end the war") |
| ``length`` | log(1 + body words) / log(1000) |
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from itertools import islice, takewhile

from monitor.query.document import TITLE, Document, Memo
from monitor.query.lexicons import (
    BACKGROUND,
    BACKGROUND_AFTER,
    CONFLICT,
    COURSE,
    ECONOMY,
    NOW,
    OTHER_SENSE,
    VIOLATION,
    WAR,
    YEARS,
)
from monitor.query.text import has_end_mark

NAMES = (
    "title",
    "title_war",
    "lead",
    "early",
    "sentences",
    "density",
    "late",
    "violation",
    "now",
    "dated",
    "background",
    "conflict_near",
    "conflict",
    "economy",
    "other_sense",
    "other_doc",
    "headline_line",
    "queries",
    "war_only",
    "length",
)
VIOLATION_WINDOW = 6  # words either side of a mention where a word of violation or collapse counts
OTHER_WINDOW = 8  # words either side of a mention where a word of another sense counts
BACKGROUND_WINDOW = 3  # words before (or, for postpositions, after) a mention that may mark it as a time frame
ECONOMY_SHARE = 0.05
OTHER_SHARE = 0.03
CONFLICT_SCALE = math.log(50)
LENGTH_SCALE = math.log(1000)
BARE_LINE_WORDS = 15  # a body line without an end mark and at most this many words reads as a link or list item


@dataclass(slots=True)
class Features:
    """The feature values, and the first mention that is not a time frame (body before title)."""

    values: dict[str, float]
    strong: int | None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the features read of a document whatever the watch list: worked out once per document."""

    body: list[int]  # sentences of the body with text, in order
    violation: list[int]  # token indices of each lexicon's words, sorted
    other: list[int]
    now: set[int]  # sentences that say today, yesterday or a weekday
    conflict: frozenset[int]  # token indices of armed-conflict words
    economy: frozenset[int]  # token indices of market and economy words
    war: frozenset[int]  # token indices of words for the war as a whole
    words: int  # tokens in the document (at least 1)
    dated: set[int]  # sentences that name a year or a number of years
    before: list[int]  # time-frame words and years (sorted token indices): a mention just after is dated
    after: list[int]  # postpositions and years: a mention just before is dated
    doc_values: dict[str, float]  # the features of the whole document
    titles: frozenset[str]  # the title's sentences, casefolded: a body line repeating one is no link line


_FACTS: Memo[None, _Facts] = Memo("features")


def _facts(doc: Document) -> _Facts:
    memo = doc.memo(_FACTS)
    cached = memo.get(None)
    if cached is not None:
        return cached
    body = [sid for sid, s in enumerate(doc.sentences) if s.field != TITLE and doc.sentence_text(sid)]
    violation, course, other = VIOLATION.hits(doc), COURSE.hits(doc), OTHER_SENSE.hits(doc)
    conflict, economy = CONFLICT.hits(doc), ECONOMY.hits(doc)
    words = len(doc.norms) or 1
    doc_values = {
        "title_war": float(any(doc.fields[i] == TITLE for i in conflict | violation | course)),
        "length": min(1.0, math.log1p(sum(1 for f in doc.fields if f != TITLE)) / LENGTH_SCALE),
    }
    years = {i for i, word in enumerate(doc.norms) if _is_year(word)}
    spans = {i for i in YEARS.hits(doc) if i and doc.norms[i - 1].isdigit() and doc.sents[i - 1] == doc.sents[i]}
    facts = _Facts(
        body, sorted(violation), sorted(other), {doc.sents[i] for i in NOW.hits(doc)}, frozenset(conflict),
        frozenset(economy), frozenset(WAR.hits(doc)), words, {doc.sents[i] for i in years | spans},
        sorted(years | BACKGROUND.hits(doc)), sorted(years | BACKGROUND_AFTER.hits(doc)), doc_values, _title_lines(doc),
    )
    memo[None] = facts
    return facts


def features(doc: Document, mentions: list[int], queries: int) -> Features:
    """The relevance features of a watch list's ``mentions`` (token indices) in ``doc``."""
    by_sentence: dict[int, list[int]] = {}
    for index in sorted(mentions):
        by_sentence.setdefault(doc.sents[index], []).append(index)
    facts = _facts(doc)
    body = facts.body
    mentioned = set(mentions)  # the words a query matched are the mention, not what stands around it
    conflict = facts.conflict.difference(mentioned)
    conflict_sentences = {doc.sents[i] for i in conflict}
    shares = ("violation", "now", "dated", "background", "conflict_near", "other_sense")
    counts = dict.fromkeys((*shares, "headline_line"), 0)
    strong: int | None = None
    body_mentions = 0
    for sid, indices in by_sentence.items():
        in_body = doc.sentences[sid].field != TITLE
        body_mentions += in_body
        violated = any(_near(doc, i, facts.violation, VIOLATION_WINDOW) for i in indices)
        counts["violation"] += violated
        counts["now"] += sid in facts.now
        counts["dated"] += sid in facts.dated
        counts["conflict_near"] += sid in conflict_sentences
        counts["other_sense"] += any(_near(doc, i, facts.other, OTHER_WINDOW) for i in indices)
        counts["headline_line"] += in_body and _bare_line(doc, sid, facts.titles)
        if not violated and _is_background(doc, indices, facts):  # "violated the 1994 ceasefire" is news
            counts["background"] += 1
        elif strong is None or (doc.fields[strong] == TITLE and in_body):
            strong = indices[0]
    sentences = max(1, len(by_sentence))
    first_mention = next((sid for sid in sorted(by_sentence) if doc.sentences[sid].field != TITLE), None)
    values = {
        **facts.doc_values,
        "conflict": min(1.0, math.log1p(len(conflict)) / CONFLICT_SCALE),
        "economy": min(1.0, len(facts.economy.difference(mentioned)) / facts.words / ECONOMY_SHARE),
        "other_doc": min(1.0, sum(i not in mentioned for i in facts.other) / facts.words / OTHER_SHARE),
        "title": float(any(doc.sentences[sid].field == TITLE for sid in by_sentence)),
        "lead": float(bool(body) and body[0] in by_sentence),
        "early": float(any(sid in by_sentence for sid in body[:3])),
        "sentences": math.log1p(body_mentions),
        "density": body_mentions / len(body) if body else 0.0,
        "late": body.index(first_mention) / len(body) if first_mention in body else 1.0,
        **{name: counts[name] / sentences for name in shares},
        "headline_line": counts["headline_line"] / max(1, body_mentions),
        "queries": math.log1p(queries),
        "war_only": float(all(any(i in facts.war for i in indices) for indices in by_sentence.values())),
    }
    return Features(values, strong)


def _near(doc: Document, index: int, marks: list[int], window: int) -> bool:
    """A marked word (``marks``: sorted token indices) within ``window`` words of the mention, in its sentence."""
    return _within(doc, index, marks, index - window, index + window)


def _within(doc: Document, index: int, marks: list[int], first: int, last: int) -> bool:
    """A marked word (sorted token indices) at ``first``..``last``, in the sentence of token ``index``."""
    sentence = doc.sents[index]
    found = islice(marks, bisect_left(marks, first), None)
    return any(doc.sents[i] == sentence for i in takewhile(last.__ge__, found))


def _is_background(doc: Document, indices: list[int], facts: _Facts) -> bool:
    """Whether a sentence's first mention (``indices``: its mention tokens, sorted) only dates or frames: a
    time-frame word or a year just before it (or a postposition or a year just after its last word, as in
    "the ceasefire of 1994"), or a date right before it, in the same sentence."""
    index = last = indices[0]
    while last + 1 in indices:
        last += 1
    if index > 0 and doc.sents[index - 1] == doc.sents[index] and _is_day(doc, index - 1):
        return True
    return _within(doc, index, facts.before, index - BACKGROUND_WINDOW, index - 1) or _within(
        doc, last, facts.after, last + 1, last + BACKGROUND_WINDOW
    )


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and word[:2] in ("19", "20")


def _is_day(doc: Document, index: int) -> bool:
    """A day number after a capitalised month name (an April 8 ceasefire)."""
    word = doc.norms[index]
    if not word.isdigit():
        return False
    previous = doc.surface(index - 1) if index > 0 and doc.sents[index - 1] == doc.sents[index] else ""
    return previous[:1].isupper() and previous.isalpha() and len(word) <= 2


def _title_lines(doc: Document) -> frozenset[str]:
    """The title's sentences and the whole title, stripped and casefolded."""
    lines = [doc.sentence_text(sid).strip().casefold() for sid, s in enumerate(doc.sentences) if s.field == TITLE]
    return frozenset([*lines, " ".join(lines)]) - {""}


def _bare_line(doc: Document, sid: int, titles: frozenset[str]) -> bool:
    """A sentence that is a whole line without an end mark and short: a link line or a list item (a feed
    summary that repeats the title is neither)."""
    text = doc.sentence_text(sid).strip()
    short = len(text.split()) <= BARE_LINE_WORDS
    return bool(text) and not has_end_mark(text) and short and text.casefold() not in titles
