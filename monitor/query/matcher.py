"""The matcher: every watch list compiled once; each document screened, tokenised once and read by all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.query.document import Document
from monitor.query.evaluator import Span, evaluate
from monitor.query.model import default_model, load_model
from monitor.query.nodes import Query
from monitor.query.parser import parse
from monitor.query.prefilter import QueryIndex
from monitor.query.scoring import Relevance, relevance
from monitor.query.screen import Screen
from monitor.records import Match, WatchList

if TYPE_CHECKING:
    from monitor.query.explain import Explanation

SNIPPET_CHARS = 400


@dataclass(frozen=True, slots=True)
class Compiled:
    """One parsed query of a watch list."""

    watchlist: int
    text: str
    node: Query
    exclude: bool


@dataclass(slots=True)
class Outcome:
    """What one watch list found in one document (matched or not)."""

    watchlist: WatchList
    queries: list[str]
    spans: list[Span]
    excluded_by: str | None
    relevance: Relevance

    @property
    def matched(self) -> bool:
        return bool(self.queries) and self.excluded_by is None and self.relevance.score >= self.watchlist.threshold


class Matcher:
    """Matches documents against watch lists. Queries are parsed up front (a bad one is a QuerySyntaxError
    here); the index and the screen are built on first use, so a poll cycle that brings nothing new never
    pays for them.

    A text the screen (monitor.query.screen) finds no query's words in is never tokenised (``screen=False``
    evaluates every document the long way: the reference the screen is tested against).
    """

    def __init__(self, watchlists: Sequence[WatchList], screen: bool = True) -> None:
        self.watchlists = list(watchlists)
        self.models = [load_model(Path(w.model)) if w.model else default_model() for w in self.watchlists]
        self._screened = screen
        self.compiled = [  # every watch list's queries, then its exclusions, in watch-list order
            Compiled(number, text, parse(text), exclude)
            for number, watchlist in enumerate(self.watchlists)
            for texts, exclude in ((watchlist.queries, False), (watchlist.exclude, True))
            for text in texts
        ]

    @cached_property
    def _index(self) -> QueryIndex:
        index = QueryIndex()
        for compiled in self.compiled:
            index.add(compiled.node)
        return index

    @cached_property
    def _screen(self) -> Screen | None:
        return Screen(c.node for c in self.compiled) if self._screened else None

    def may_match(self, title: str, body: str) -> bool:
        """Whether some query or exclusion may hit an article with this title and body (False: none can)."""
        return self._screen is None or self._screen.passes(title, body)

    def candidates(self, doc: Document) -> list[int]:
        """Indices of the compiled queries that can match ``doc``, in watch-list order."""
        return self._index.candidates(doc)

    def outcomes(self, doc: Document) -> list[Outcome]:
        """Per watch list that any query or exclusion hit: what matched, what vetoed, the score."""
        if not self.may_match(doc.title, doc.body):
            return []
        found: dict[int, Outcome] = {}
        for index in self.candidates(doc):
            compiled = self.compiled[index]
            spans = evaluate(compiled.node, doc)
            if spans is None:
                continue
            outcome = found.get(compiled.watchlist)
            if outcome is None:
                outcome = Outcome(self.watchlists[compiled.watchlist], [], [], None, Relevance(0.0))
                found[compiled.watchlist] = outcome
            if compiled.exclude:
                outcome.excluded_by = outcome.excluded_by or compiled.text
            else:
                outcome.queries.append(compiled.text)
                outcome.spans.extend(spans)
        for number, outcome in found.items():
            if outcome.queries:
                model = self.models[number]
                outcome.relevance = relevance(doc, mention_tokens(outcome.spans), len(outcome.queries), model)
        return [found[k] for k in sorted(found)]

    def explain(self, title: str, body: str, language: str | None = None) -> list[Explanation]:
        """One Explanation per watch list (see monitor.query.explain)."""
        from monitor.query.explain import explain_watchlists

        return explain_watchlists(self, title, body, language)

    def match(self, title: str, body: str, language: str | None = None) -> list[Match]:
        """One Match per watch list that matches the article (score at or above its threshold)."""
        if not self.may_match(title, body):
            return []
        doc = Document(title, body, language)
        return [to_match(outcome, doc) for outcome in self.outcomes(doc) if outcome.matched]


def mention_tokens(spans: list[Span]) -> list[int]:
    """Sorted distinct token indices covered by the spans."""
    return sorted({i for first, last in spans for i in range(first, last + 1)})


def to_match(outcome: Outcome, doc: Document) -> Match:
    mentions = mention_tokens(outcome.spans)
    spans = sorted(set(outcome.spans))
    outer = [(a, b) for a, b in spans if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in spans)]
    terms = tuple(dict.fromkeys(_span_text(doc, first, last) for first, last in outer))
    first = outcome.relevance.strong if outcome.relevance.strong is not None else next(iter(mentions), None)
    return Match(
        watchlist=outcome.watchlist.name,
        query=outcome.queries[0],
        terms=terms,
        snippet=snippet(doc, first) if first is not None else lead(doc),
        score=round(outcome.relevance.score, 3),
    )


def _span_text(doc: Document, first: int, last: int) -> str:
    """A matched span as written: one word, or a phrase such as 'cessation of hostilities'."""
    return doc.text(doc.fields[first])[doc.char_span(first)[0] : doc.char_span(last)[1]]


def lead(doc: Document) -> str:
    """The first non-empty sentence, title first (the snippet of a match without terms)."""
    return next((t for t in map(doc.sentence_text, range(len(doc.sentences))) if t), "")[:SNIPPET_CHARS]


def snippet(doc: Document, index: int) -> str:
    """The sentence around a token, with the next one when short; trimmed around the token."""
    sid = doc.sents[index]
    text = doc.sentence_text(sid)
    following = sid + 1 < len(doc.sentences) and doc.sentences[sid + 1].field == doc.fields[index]
    if len(text) < SNIPPET_CHARS // 3 and following:
        text = f"{text} {doc.sentence_text(sid + 1)}".strip()
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    word = doc.surface(index)
    at = max(0, text.find(word) - SNIPPET_CHARS // 2)
    cut = text[at : at + SNIPPET_CHARS - 2].strip()
    return ("…" if at else "") + cut + "…"
