"""Which words a query needs: lets the matcher skip every query that cannot match a document.

A query's needs are clauses: each clause is a set of word starts of which a matching document
holds at least one. No clauses means the query can match any document (``NOT x``).
"""

from __future__ import annotations

from monitor.query.document import Document
from monitor.query.evaluator import stem_start
from monitor.query.nodes import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term

KEY_LENGTH = 3  # the matcher indexes queries by the first letters of their narrowest clause
Clause = frozenset[str]


def needs(node: Query) -> list[Clause]:
    """The clauses every document that ``node`` matches satisfies."""
    if isinstance(node, Term | Prefix):
        start = stem_start(node.text) if isinstance(node, Term) else node.text
        return [frozenset([start])] if len(start) >= 2 else []
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
    return min(clauses, key=lambda c: (len(c), -min(len(x) for x in c)))


def index_keys(clauses: list[Clause]) -> frozenset[str] | None:
    """Keys to index a query under (None: evaluate it for every document)."""
    return frozenset(start[:KEY_LENGTH] for start in narrowest(clauses)) if clauses else None


def satisfied(clauses: list[Clause], doc: Document) -> bool:
    """Whether ``doc`` holds a word for every clause."""
    return all(any(doc.has_prefix(start) for start in clause) for clause in clauses)


class QueryIndex:
    """Queries indexed by the words they need; hands out the ones a document can satisfy."""

    def __init__(self) -> None:
        self._needs: list[list[Clause]] = []
        self._by_key: dict[str, list[int]] = {}
        self._always: list[int] = []

    def add(self, node: Query) -> int:
        """Index a query; returns its number."""
        number = len(self._needs)
        clauses = needs(node)
        self._needs.append(clauses)
        keys = index_keys(clauses)
        if keys is None:
            self._always.append(number)
        for key in keys or ():
            self._by_key.setdefault(key, []).append(number)
        return number

    def candidates(self, doc: Document) -> list[int]:
        """Numbers, in order, of the queries whose needs ``doc`` satisfies."""
        found = set(self._always)
        for key in self._by_key.keys() & doc.prefilter_keys():
            found.update(self._by_key[key])
        return [n for n in sorted(found) if satisfied(self._needs[n], doc)]
