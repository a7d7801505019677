"""The query AST. Every node renders back to query text: ``parse(str(node)) == node``."""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("title", "body")


@dataclass(frozen=True, slots=True)
class Term:
    """One normalised word; matches the same word or (same language) an inflection of it.

    ``written`` keeps the word as the query wrote it when its letters say more than the folded
    ``text`` does: Turkish or Azerbaijani letters (ş, ğ, ə, dotless i), so it takes their suffix chains in a
    document of any language (monitor.query.morphology).
    """

    text: str
    written: str = ""

    def __str__(self) -> str:
        return self.written or self.text


@dataclass(frozen=True, slots=True)
class Prefix:
    """A prefix wildcard such as ``violat*``: any word that starts with ``text``."""

    text: str

    def __str__(self) -> str:
        return f"{self.text}*"


Word = Term | Prefix


@dataclass(frozen=True, slots=True)
class Phrase:
    """Adjacent words in order, within one field.

    Quoted (``"cease fire"``, also one quoted word) it is exact: no inflections. A bare word the
    tokeniser splits (``cease-fire``) is an inexact phrase: each part also matches its inflections.
    """

    words: tuple[Word, ...]
    exact: bool = True

    def __str__(self) -> str:
        if self.exact:
            return '"' + " ".join(str(w) for w in self.words) + '"'
        return "-".join(str(w) for w in self.words)


@dataclass(frozen=True, slots=True)
class And:
    """All parts match (also written as adjacent terms)."""

    parts: tuple[Query, ...]

    def __str__(self) -> str:
        return " AND ".join(_wrap(p) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Or:
    """At least one part matches."""

    parts: tuple[Query, ...]

    def __str__(self) -> str:
        return " OR ".join(_wrap(p) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Not:
    """The part does not match anywhere (``a NOT b`` is ``a AND NOT b``)."""

    part: Query

    def __str__(self) -> str:
        return f"NOT {_wrap(self.part)}"


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides match in the same field with at most ``distance`` words between them."""

    left: Query
    right: Query
    distance: int

    def __str__(self) -> str:
        return f"{_wrap(self.left)} NEAR/{self.distance} {_wrap(self.right)}"


@dataclass(frozen=True, slots=True)
class Field:
    """The part matches within one field only: ``title:`` or ``body:``."""

    name: str
    part: Query

    def __str__(self) -> str:
        return f"{self.name}:{_wrap(self.part)}"


Query = Term | Prefix | Phrase | And | Or | Not | Near | Field


def _wrap(node: Query) -> str:
    """Render a child, in parentheses when it is an operator expression."""
    if isinstance(node, And | Or | Not | Near):
        return f"({node})"
    return str(node)
