"""The screen: whether an item can hold the words some query needs, read from its raw text, before tokenising.

Most feed items hold no watch-list word. The screen folds an item's title and body as whole texts
(monitor.query.text.screen_fold) and finds, in one Aho-Corasick pass (pyahocorasick), the word starts, whole
words and compound tails of each query's requirement (monitor.query.prefilter.requirement); an item that
holds no query's requirement cannot match any, and is never made a Document. It errs one way only: it does
not work out the language, so a German compound tail counts in any text and anywhere in a word.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick

from monitor.query.morphology import TAIL
from monitor.query.nodes import Prefix, Query, Term
from monitor.query.prefilter import WORD, AllOf, AnyOf, Need, clauses, narrowest, requirement, unmarked, word_need
from monitor.query.text import screen_fold

Pattern = tuple[int, str | None, str | None, str | None]  # a key's length; its start, whole-word and tail facts
STRONG_WORD = 4  # shorter whole words are too common to be worth reading: "=of", "=de", "=the"


class Screen:
    """The requirements of a set of queries, their clauses' starts screen-folded (a fact: a start so folded,
    marked as a clause marks it)."""

    def __init__(self, nodes: Iterable[Query]) -> None:
        self._needs: list[Need] = []
        self._by_fact: dict[str, list[int]] = {}  # a fact of each query's narrowest clause -> those queries
        self.open = False  # some query may match a text without any of the words the screen reads
        for number, node in enumerate(nodes):
            need = _simplified(requirement(node, self._word))
            self.open = self.open or need is None
            for fact in narrowest(clauses(need)) if need is not None else ():
                self._by_fact.setdefault(fact, []).append(number)
            self._needs.append(need)
        patterns: dict[str, dict[str, str]] = {}  # key -> its facts by mark
        for fact in {fact for need in self._needs for fact in _facts(need)}:
            mark, key = _marked(fact)
            patterns.setdefault(key, {})[mark] = fact
        self._automaton = ahocorasick.Automaton()
        for key, facts in patterns.items():
            self._automaton.add_word(key, (len(key), facts.get(""), facts.get(WORD), facts.get(TAIL)))
        self._automaton.make_automaton()

    @staticmethod
    def _word(node: Term | Prefix, exact: bool) -> Need:
        """A word's clause, screen-folded (None: a start the screen cannot read, so it holds for any text)."""
        clause = word_need(node, exact)
        if clause is None:
            return None
        facts = []
        for mark, start in map(_marked, clause):
            key = screen_fold(start)
            if not key:
                return None
            facts.append(mark + key)
        return frozenset(facts)

    def passes(self, title: str, body: str) -> bool:
        """Whether an item with this title and body holds some query's requirement (if not, no query can
        match it)."""
        if self.open or not self._needs:
            return self.open
        text = screen_fold(f"{title}\n{body}")
        if text is None:
            return True
        found = self._found(text)
        candidates = {query for fact in found for query in self._by_fact.get(fact, ())}
        return any(_holds(self._needs[query], found) for query in candidates)

    def _found(self, text: str) -> set[str]:
        """The facts a screen-folded text holds."""
        found: set[str] = set()
        last = len(text) - 1
        pattern: Pattern
        for end, pattern in self._automaton.iter(text):
            size, start, whole, tail = pattern
            if tail is not None:
                found.add(tail)
            at = end - size + 1
            if at and text[at - 1].isalnum():
                continue
            if start is not None:
                found.add(start)
            if whole is not None and (end == last or not text[end + 1].isalnum()):
                found.add(whole)
        return found


def _simplified(need: Need) -> Need:
    """A requirement read with fewer sets and keys: the clauses of an AnyOf as one clause, an AllOf in an AllOf
    as its parts, and no part of an AllOf that names a short whole word while another is left (the phrase words
    "of", "de", "the"; "war" in "(stop OR halt) NEAR/1 war"). The same or weaker, so still held by every text
    the query matches."""
    if isinstance(need, AnyOf):
        parts = [_simplified(part) for part in need.parts]
        merged = frozenset().union(*[part for part in parts if isinstance(part, frozenset)])
        return _one(AnyOf, [merged] * bool(merged) + [part for part in parts if not isinstance(part, frozenset)])
    if isinstance(need, AllOf):
        parts = [each for part in map(_simplified, need.parts) for each in _conjuncts(part)]
        return _one(AllOf, [part for part in parts if not _weak(part)] or parts)
    return need


def _one(kind: type[AllOf | AnyOf], parts: list[Need]) -> Need:
    """The one part, or all of or any of the parts."""
    return parts[0] if len(parts) == 1 else kind(tuple(parts))


def _conjuncts(need: Need) -> tuple[Need, ...]:
    """The parts of an AllOf, or the requirement itself."""
    return need.parts if isinstance(need, AllOf) else (need,)


def _weak(need: Need) -> bool:
    """Whether a requirement names a short whole word."""
    return any(fact.startswith(WORD) and len(fact) <= STRONG_WORD for fact in _facts(need))


def _marked(start: str) -> tuple[str, str]:
    """A clause's start as its mark ("" for a word start) and the start itself."""
    bare = unmarked(start)
    return start[: len(start) - len(bare)], bare


def _facts(need: Need) -> Iterable[str]:
    """Every fact a requirement names."""
    if isinstance(need, AllOf | AnyOf):
        for part in need.parts:
            yield from _facts(part)
    elif need is not None:
        yield from need


def _holds(need: Need, found: set[str]) -> bool:
    """Whether a requirement holds for a text holding the facts ``found``."""
    if isinstance(need, AllOf):
        return all(_holds(part, found) for part in need.parts)
    if isinstance(need, AnyOf):
        return any(_holds(part, found) for part in need.parts)
    return need is None or not need.isdisjoint(found)
