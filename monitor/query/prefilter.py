"""Which words a query needs: lets the matcher skip every query that cannot match a document.

A query's needs are clauses: each clause is a set of word starts of which a matching document
holds at least one. No clauses means the query can match any document (``NOT x``). They are read off
its requirement: its words' clauses combined as its operators combine them (the screen,
monitor.query.screen, reads a requirement whole). A start marked with ``WORD`` is a whole word (a word
that matches only itself), one marked with ``TAIL`` is held by a German compound with a tail that
starts so (monitor.query.morphology).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from monitor.query.document import Document
from monitor.query.morphology import TAIL, TAIL_KEY, compounds_apply, has_tail, only_itself, tail_keys, word_starts
from monitor.query.nodes import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term

KEY_LENGTH = 3  # the matcher indexes queries by the first letters of their narrowest clause
WORD = "="  # marks a whole word in a clause (never a letter)
Clause = frozenset[str]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every part holds."""

    parts: tuple[Need, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some part holds."""

    parts: tuple[Need, ...]


Need = Clause | AllOf | AnyOf | None  # None: holds for any document
WordNeed = Callable[[Term | Prefix, bool], Need]  # the need of one word of a query (exact: quoted)


def word_need(node: Term | Prefix, exact: bool) -> Clause | None:
    """The clause of one word (None when its start is too short to index)."""
    if isinstance(node, Prefix):
        starts = frozenset([node.text])
    elif only_itself(node.text, exact):
        starts = frozenset([WORD + node.text])
    else:
        starts = word_starts(node.text)
    return starts if all(len(unmarked(start)) >= 2 for start in starts) else None


def requirement(node: Query, word: WordNeed = word_need) -> Need:
    """What every document that ``node`` matches holds: the needs of its words (by ``word``), combined as
    its operators combine them (a NOT holds for any document)."""
    if isinstance(node, Term | Prefix):
        return word(node, False)
    if isinstance(node, Phrase):
        return all_of([word(w, node.exact) for w in node.words])
    if isinstance(node, And):
        return all_of([requirement(p, word) for p in node.parts])
    if isinstance(node, Near):
        return all_of([requirement(node.left, word), requirement(node.right, word)])
    if isinstance(node, Or):
        options = [requirement(p, word) for p in node.parts]
        return None if None in options else AnyOf(tuple(options))
    if isinstance(node, Field):
        return requirement(node.part, word)
    if isinstance(node, Not):
        return None
    raise TypeError(node)


def all_of(parts: list[Need]) -> Need:
    """All of the parts that do not hold for any document (None if none is left)."""
    kept = tuple(part for part in parts if part is not None)
    return AllOf(kept) if kept else None


def needs(node: Query) -> list[Clause]:
    """The clauses every document that ``node`` matches satisfies."""
    return clauses(requirement(node))


def clauses(need: Need) -> list[Clause]:
    """A need as clauses that all hold: an AnyOf becomes the union of its parts' narrowest clauses."""
    if need is None:
        return []
    if isinstance(need, AllOf):
        return [c for part in need.parts for c in clauses(part)]
    if isinstance(need, AnyOf):
        return [frozenset().union(*[narrowest(clauses(part)) for part in need.parts])]
    return [need]


def unmarked(start: str) -> str:
    """A start without its mark."""
    return start.removeprefix(TAIL).removeprefix(WORD)


def narrowest(clauses: list[Clause]) -> Clause:
    """The clause with the fewest and longest word starts."""
    return min(clauses, key=lambda c: (len(c), -min(len(unmarked(x)) for x in c)))


def index_keys(clauses: list[Clause]) -> frozenset[str] | None:
    """Keys to index a query under (None: evaluate it for every document)."""
    return frozenset(_key(start) for start in narrowest(clauses)) if clauses else None


def _key(start: str) -> str:
    """The index key of a word start (a tail start keeps its mark)."""
    return start[: len(TAIL) + TAIL_KEY] if start.startswith(TAIL) else unmarked(start)[:KEY_LENGTH]


@dataclass(frozen=True, slots=True)
class Test:
    """A clause as the prefilter tests it: its whole words; its word starts and their keys; its compound
    tail starts (without their mark) and theirs. Set lookups settle most clauses."""

    words: frozenset[str]
    starts: tuple[str, ...]
    keys: frozenset[str]
    tails: tuple[str, ...]
    tail_keys: frozenset[str]

    @classmethod
    def of(cls, clause: Clause) -> Test:
        words = frozenset(start.removeprefix(WORD) for start in clause if start.startswith(WORD))
        starts = tuple(start for start in clause if not start.startswith((WORD, TAIL)))
        tails = tuple(start.removeprefix(TAIL) for start in clause if start.startswith(TAIL))
        tail_keys = frozenset(TAIL + tail[:TAIL_KEY] for tail in tails)
        return cls(words, starts, frozenset(map(_key, starts)), tails, tail_keys)


def satisfied(tests: list[Test], doc: Document) -> bool:
    """Whether ``doc`` holds a word for every clause (a German document's compound tails count for
    their clauses; its language is worked out last, as most documents have no such tail)."""
    words, keys = doc.words(), doc.prefilter_keys()
    for test in tests:
        if not test.words.isdisjoint(words):
            continue
        if not test.keys.isdisjoint(keys) and any(map(doc.has_prefix, test.starts)):
            continue
        if not (
            test.tails
            and not test.tail_keys.isdisjoint(tail_keys(doc))
            and any(has_tail(doc, start) for start in test.tails)
            and compounds_apply(doc)
        ):
            return False
    return True


def possible(node: Query, doc: Document) -> bool:
    """Whether ``doc`` holds a word for every clause ``node`` needs (if not, ``node`` cannot match it)."""
    return satisfied(_tests(node), doc)


@lru_cache(maxsize=50_000)
def _tests(node: Query) -> list[Test]:
    """The clauses a query needs, as the prefilter tests them."""
    return [Test.of(clause) for clause in needs(node)]


class QueryIndex:
    """Queries indexed by the words they need; hands out the ones a document can satisfy."""

    def __init__(self) -> None:
        self._needs: list[list[Test]] = []
        self._by_key: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._tails = False  # whether some query is indexed under a compound tail

    def add(self, node: Query) -> int:
        """Index a query; returns its number."""
        number = len(self._needs)
        clauses = needs(node)
        self._needs.append(_tests(node))
        keys = index_keys(clauses)
        if keys is None:
            self._always.append(number)
        for key in keys or ():
            self._by_key.setdefault(key, []).append(number)
            self._tails = self._tails or key.startswith(TAIL)
        return number

    def candidates(self, doc: Document) -> list[int]:
        """Numbers, in order, of the queries whose needs ``doc`` satisfies."""
        found = set(self._always)
        keys = self._by_key.keys() & doc.prefilter_keys()
        if self._tails:
            tails = self._by_key.keys() & tail_keys(doc)
            if tails and compounds_apply(doc):
                keys |= tails
        for key in keys:
            found.update(self._by_key[key])
        return [n for n in sorted(found) if satisfied(self._needs[n], doc)]
