"""Recursive-descent parser for the watch-list query language.

Grammar (operators are upper case; lower-case ``and``/``or``/``not``/``near`` are plain words)::

    query  := or
    or     := and ("OR" and)*
    and    := not (["AND"] not)*          # adjacent terms are joined by an implicit AND
    not    := "NOT" not | near
    near   := unary ("NEAR/" N unary)*     # N words or fewer between the two sides
    unary  := ("title:" | "body:") unary | "(" or ")" | '"' words '"' | word | word*

NEAR distances go up to MAX_NEAR; parentheses, NOT, fields and NEAR links nest at most MAX_DEPTH deep.
A word starting ``letters:`` names a field, and an unknown one is an error (quote it to search for it).
A bare word also matches its inflections (same stem, same language) and the affixes its language
writes onto it (monitor.query.morphology); quoted words match exactly.
A bare word that the tokeniser splits (``cease-fire``, ``U.S.``) is an inexact phrase of its parts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from monitor.errors import QuerySyntaxError
from monitor.query.morphology import turkic_written
from monitor.query.nodes import FIELDS, And, Field, Near, Not, Or, Phrase, Prefix, Query, Term, Word
from monitor.query.text import words

_LEXEME = re.compile(r'\s*(?:(?P<paren>[()])|(?P<quote>"[^"]*"?)|(?P<word>[^\s()"]+))')
_NEAR = re.compile(r"NEAR/(\d+)")
_FIELD = re.compile(r"([A-Za-z]+):")  # a bare word that starts like a field; `10:30` does not
MAX_NEAR = 9999  # largest NEAR distance
MAX_DEPTH = 50  # deepest nesting of parentheses, NOT, fields and NEAR chains (deeper ones would exhaust the stack)


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # "(", ")", "quote", "word", "AND", "OR", "NOT", "NEAR", "field", "end"
    text: str
    position: int


def parse(text: str) -> Query:
    """Parse query text into its AST; raises QuerySyntaxError naming the position of the problem."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lexemes = list(self._lex())
        self.index = 0
        self.depth = 0

    def parse(self) -> Query:
        if self.peek().kind == "end":
            self.fail("empty query")
        node = self.or_expr()
        if self.peek().kind != "end":
            self.fail(f"unexpected {self.peek().text!r}")
        return node

    # -- lexing -------------------------------------------------------------------------------
    def _lex(self) -> list[_Lexeme]:
        out: list[_Lexeme] = []
        pos = 0
        while pos < len(self.text):
            found = _LEXEME.match(self.text, pos)
            if found is None or found.end() == pos:
                break
            pos = found.end()
            kind = found.lastgroup or ""
            value = found.group(kind)
            start = found.start(kind)
            if kind == "word":
                out.extend(self._word_lexemes(value, start))
            else:
                out.append(_Lexeme("quote" if kind == "quote" else value, value, start))
        out.append(_Lexeme("end", "end of query", len(self.text)))
        return out

    def _word_lexemes(self, value: str, start: int) -> list[_Lexeme]:
        fields: list[_Lexeme] = []  # the field names before a word (`title:body:x`), in a loop: no recursion
        while field := _FIELD.match(value):
            name = field.group(1).lower()
            if name not in FIELDS:
                known = " and ".join(f"{f}:" for f in FIELDS)
                hint = f'the fields are {known}; to search for the word itself, quote it: "{value}"'
                raise QuerySyntaxError(f"unknown field {field.group(0)!r} ({hint})", self.text, start)
            fields.append(_Lexeme("field", name, start))
            value, start = value[field.end() :], start + field.end()
        return [*fields, self._word_lexeme(value, start)] if value else fields

    def _word_lexeme(self, value: str, start: int) -> _Lexeme:
        if value in ("AND", "OR", "NOT"):
            return _Lexeme(value, value, start)
        if value == "NEAR" or value.startswith("NEAR/"):  # NEARBY is a word
            near = _NEAR.fullmatch(value)
            if not near:
                raise QuerySyntaxError("NEAR needs a distance, as in NEAR/5", self.text, start)
            if len(near.group(1)) > len(str(MAX_NEAR)) or int(near.group(1)) > MAX_NEAR:
                raise QuerySyntaxError(f"NEAR distance must be 0..{MAX_NEAR}", self.text, start)
            return _Lexeme("NEAR", near.group(1), start)
        return _Lexeme("word", value, start)

    # -- grammar --------------------------------------------------------------------------------
    def peek(self) -> _Lexeme:
        return self.lexemes[self.index]

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def fail(self, message: str, lexeme: _Lexeme | None = None) -> None:
        where = lexeme or self.peek()
        raise QuerySyntaxError(message, self.text, where.position)

    @contextmanager
    def nested(self, lexeme: _Lexeme) -> Iterator[None]:
        """One level deeper inside the query at `lexeme`; QuerySyntaxError (there) beyond MAX_DEPTH."""
        if self.depth == MAX_DEPTH:
            self.fail(f"query nested deeper than {MAX_DEPTH} levels", lexeme)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def or_expr(self) -> Query:
        parts = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Query:
        parts = [self.not_expr()]
        while self.peek().kind not in ("OR", ")", "end"):
            if self.peek().kind == "AND":
                self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Query:
        if self.peek().kind == "NOT":
            with self.nested(self.take()):
                return Not(self.not_expr())
        return self.near_expr()

    def near_expr(self) -> Query:
        node = self.unary()
        with ExitStack() as levels:  # a NEAR chain nests to the left: each link is one level
            while self.peek().kind == "NEAR":
                near = self.take()
                levels.enter_context(self.nested(near))
                distance = int(near.text)
                node = Near(node, self.unary(), distance)
        return node

    def unary(self) -> Query:
        lexeme = self.take()
        if lexeme.kind == "field":
            with self.nested(lexeme):
                return Field(lexeme.text, self.unary())
        if lexeme.kind == "(":
            with self.nested(lexeme):
                node = self.or_expr()
            if self.peek().kind != ")":
                self.fail("missing ')'")
            self.take()
            return node
        if lexeme.kind == "quote":
            return self.phrase(lexeme)
        if lexeme.kind == "word":
            return self.bare_word(lexeme)
        self.fail(f"expected a term, found {lexeme.text!r}", lexeme)
        raise AssertionError  # unreachable: fail() raises

    def phrase(self, lexeme: _Lexeme) -> Query:
        if len(lexeme.text) < 2 or not lexeme.text.endswith('"'):
            self.fail("unterminated quoted phrase", lexeme)
        parts: list[Word] = []
        for raw in lexeme.text[1:-1].split():
            parts.extend(self.word_parts(raw, lexeme))
        if not parts:
            self.fail("empty quoted phrase", lexeme)
        if len(parts) == 1 and isinstance(parts[0], Prefix):
            return parts[0]
        return Phrase(tuple(parts))

    def bare_word(self, lexeme: _Lexeme) -> Query:
        parts = self.word_parts(lexeme.text, lexeme)
        if len(parts) > 1:
            return Phrase(tuple(parts), exact=False)
        if isinstance(parts[0], Term) and turkic_written(lexeme.text):
            return Term(parts[0].text, lexeme.text)
        return parts[0]

    def word_parts(self, raw: str, lexeme: _Lexeme) -> list[Word]:
        """Fold a written word into terms; a trailing ``*`` makes the last one a prefix."""
        wildcard = raw.endswith("*")
        body = raw[:-1] if wildcard else raw
        if "*" in body:
            self.fail("'*' is only allowed at the end of a word", lexeme)
        folded = words(body)
        if not folded:
            self.fail(f"{raw!r} has no letters or digits", lexeme)
        parts: list[Word] = [Term(w) for w in folded]
        if wildcard:
            if not _ends_in_word(body):
                self.fail("'*' must follow a letter or digit", lexeme)
            parts[-1] = Prefix(folded[-1])
        return parts


def _ends_in_word(body: str) -> bool:
    """The raw word ends with a letter, digit or in-word mark (``abc-*`` is rejected, ``abc*`` accepted)."""
    return bool(body) and (body[-1].isalnum() or unicodedata.category(body[-1]).startswith("M"))
