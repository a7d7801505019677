"""Which words a query needs: lets the matcher skip every query that cannot match a document."""

from __future__ import annotations

from monitor.query.evaluator import stem_start
from monitor.query.nodes import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term

KEY_LENGTH = 3


def required_keys(node: Query) -> frozenset[str] | None:
    """Word starts of which a matching document holds at least one; None when no such set exists."""
    if isinstance(node, Term | Prefix):
        start = stem_start(node.text) if isinstance(node, Term) else node.text
        return frozenset([start[:KEY_LENGTH]]) if len(start) >= 2 else None
    if isinstance(node, Phrase):
        return _narrowest([required_keys(w) for w in node.words])
    if isinstance(node, And):
        return _narrowest([required_keys(p) for p in node.parts])
    if isinstance(node, Near):
        return _narrowest([required_keys(node.left), required_keys(node.right)])
    if isinstance(node, Or):
        keys = [required_keys(p) for p in node.parts]
        if any(k is None for k in keys):
            return None
        return frozenset().union(*[k for k in keys if k is not None])
    if isinstance(node, Field):
        return required_keys(node.part)
    if isinstance(node, Not):
        return None
    raise TypeError(node)


def _narrowest(options: list[frozenset[str] | None]) -> frozenset[str] | None:
    """Of several sets that are each required, the one with the fewest and longest keys."""
    known = [k for k in options if k is not None]
    if not known:
        return None
    return min(known, key=lambda k: (len(k), -min(len(x) for x in k)))
