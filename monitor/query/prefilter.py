"""Which words a query needs: lets the matcher skip every query that cannot match a document.

A query's needs are clauses: each clause is a set of word starts of which a matching document
holds at least one. No clauses means the query can match any document (``NOT x``). A start marked
with ``TAIL`` is held by a German compound with a tail that starts so (monitor.query.morphology).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.query.document import Document
from monitor.query.evaluator import word_starts
from monitor.query.morphology import TAIL, TAIL_KEY, compounds_apply, has_tail, tail_keys
from monitor.query.nodes import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term

KEY_LENGTH = 3  # the matcher indexes queries by the first letters of their narrowest clause
Clause = frozenset[str]


def needs(node: Query) -> list[Clause]:
    """The clauses every document that ``node`` matches satisfies."""
    if isinstance(node, Term | Prefix):
        starts = word_starts(node.text) if isinstance(node, Term) else frozenset([node.text])
        return [starts] if all(len(start.removeprefix(TAIL)) >= 2 for start in starts) else []
    if isinstance(node, Phrase):
        return [c for w in node.words for c in needs(w)]
    if isinstance(node, And):
        return [c for p in node.parts for c in needs(p)]
    if isinstance(node, Near):
        return needs(node.left) + needs(node.right)
    if isinstance(node, Or):
        options = [needs(p) for p in node.parts]
        if any(not o for o in options):
            return []
        return [frozenset().union(*[narrowest(o) for o in options])]
    if isinstance(node, Field):
        return needs(node.part)
    if isinstance(node, Not):
        return []
    raise TypeError(node)


def narrowest(clauses: list[Clause]) -> Clause:
    """The clause with the fewest and longest word starts."""
    return min(clauses, key=lambda c: (len(c), -min(len(x.removeprefix(TAIL)) for x in c)))


def index_keys(clauses: list[Clause]) -> frozenset[str] | None:
    """Keys to index a query under (None: evaluate it for every document)."""
    return frozenset(_key(start) for start in narrowest(clauses)) if clauses else None


def _key(start: str) -> str:
    """The index key of a word start (a tail start keeps its mark)."""
    return start[: len(TAIL) + TAIL_KEY] if start.startswith(TAIL) else start[:KEY_LENGTH]


@dataclass(frozen=True, slots=True)
class Test:
    """A clause as the prefilter tests it: its word starts, their keys, its compound tail starts
    (without their mark) and theirs; the keys are set lookups that settle most clauses."""

    starts: tuple[str, ...]
    keys: frozenset[str]
    tails: tuple[str, ...]
    tail_keys: frozenset[str]

    @classmethod
    def of(cls, clause: Clause) -> Test:
        starts = tuple(start for start in clause if not start.startswith(TAIL))
        tails = tuple(start.removeprefix(TAIL) for start in clause if start.startswith(TAIL))
        return cls(starts, frozenset(map(_key, starts)), tails, frozenset(TAIL + t[:TAIL_KEY] for t in tails))


def satisfied(tests: list[Test], doc: Document) -> bool:
    """Whether ``doc`` holds a word for every clause (a German document's compound tails count for
    their clauses; its language is worked out last, as most documents have no such tail)."""
    keys = doc.prefilter_keys()
    for test in tests:
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
        self._needs.append([Test.of(clause) for clause in clauses])
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
