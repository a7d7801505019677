"""Evaluate a query AST against a Document.

A result is ``None`` when the query does not match, else the list of token spans ``(first, last)``
that show it does (empty for a match without evidence, e.g. ``NOT x``).
"""

from __future__ import annotations

from functools import lru_cache

from monitor.query.document import FIELD_NAMES, Document
from monitor.query.nodes import And, Near, Not, Or, Phrase, Prefix, Query, Term
from monitor.query.text import SCRIPT_LANGS, script_of, stem

Span = tuple[int, int]
Result = list[Span] | None
MIN_STEM_WORD = 4  # shorter words match exactly only


def evaluate(node: Query, doc: Document, field: int | None = None) -> Result:
    """Spans of ``doc`` that satisfy ``node`` (within ``field`` when given), or None."""
    if isinstance(node, Term | Prefix | Phrase):
        positions = _leaf(node, doc, field)
        return positions or None
    if isinstance(node, And):
        spans: list[Span] = []
        for part in node.parts:
            found = evaluate(part, doc, field)
            if found is None:
                return None
            spans.extend(found)
        return spans
    if isinstance(node, Or):
        results = [r for r in (evaluate(part, doc, field) for part in node.parts) if r is not None]
        return [span for r in results for span in r] if results else None
    if isinstance(node, Not):
        return [] if evaluate(node.part, doc, field) is None else None
    if isinstance(node, Near):
        return _near(node, doc, field)
    return evaluate(node.part, doc, FIELD_NAMES.index(node.name))


def _leaf(node: Term | Prefix | Phrase, doc: Document, field: int | None) -> list[Span]:
    key = ("leaf", node, field)
    cached = doc.cache.get(key)
    if cached is None:
        if isinstance(node, Phrase):
            cached = _phrase(node, doc, field)
        else:
            cached = [(i, i) for i in word_positions(node, doc) if field is None or doc.fields[i] == field]
        doc.cache[key] = cached
    return cached  # type: ignore[return-value]


def word_positions(node: Term | Prefix, doc: Document, exact: bool = False) -> list[int]:
    """Token indices of the words a Term (same word or, unless exact, an inflection) or Prefix matches."""
    key = ("words", node, exact)
    cached = doc.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    if isinstance(node, Prefix):
        matched = doc.with_prefix(node.text)
    else:
        matched = [node.text] if node.text in doc.words() else []
        if not exact:
            matched += _inflections(node.text, doc)
    out = doc.positions(matched[0]) if len(matched) == 1 else sorted(i for word in matched for i in doc.positions(word))
    doc.cache[key] = out
    return out


def _inflections(word: str, doc: Document) -> list[str]:
    """Other words of ``doc`` with the same stem, at least as long, starting with the shared stem."""
    if len(word) < MIN_STEM_WORD:
        return []
    lang = doc.stem_lang(script_of(word))
    if lang is None:
        return []
    base, start = _stem_start(lang, word)
    if len(start) < MIN_STEM_WORD - 1:
        return []
    return [w for w in doc.with_prefix(start) if w != word and len(w) >= len(word) and stem(lang, w) == base]


def matches_word(node: Term | Prefix, word: str, lang: str | None) -> bool:
    """Whether a folded word matches a Prefix, or a Term (the same word or an inflection in ``lang``),
    exactly as word_positions finds words (``lang`` is the document's stemmer for the term's script)."""
    if isinstance(node, Prefix):
        return word.startswith(node.text)
    if word == node.text:
        return True
    if len(node.text) < MIN_STEM_WORD or lang is None:
        return False
    base, start = _stem_start(lang, node.text)
    return (
        len(start) >= MIN_STEM_WORD - 1
        and word.startswith(start)
        and len(word) >= len(node.text)
        and stem(lang, word) == base
    )


@lru_cache(maxsize=100_000)
def _stem_start(lang: str, word: str) -> tuple[str, str]:
    """A word's stem in a language, and the start it shares with that stem."""
    base = stem(lang, word)
    return base, common_start(base, word)


def stem_start(word: str) -> str:
    """The part of ``word`` that every word it can match starts with (for the prefilter)."""
    if len(word) < MIN_STEM_WORD:
        return word
    starts = [_stem_start(lang, word)[1] for lang in SCRIPT_LANGS.get(script_of(word), ())]
    return min([word, *starts], key=len)


def _phrase(node: Phrase, doc: Document, field: int | None) -> list[Span]:
    columns = [set(word_positions(w, doc, exact=node.exact)) for w in node.words]
    first = sorted(columns[0])
    size = len(node.words)
    out = []
    for i in first:
        if field is not None and doc.fields[i] != field:
            continue
        last = i + size - 1
        same_field = last < len(doc.norms) and doc.fields[last] == doc.fields[i]
        if same_field and all(i + k in columns[k] for k in range(1, size)):
            out.append((i, last))
    return out


def _near(node: Near, doc: Document, field: int | None) -> Result:
    left = evaluate(node.left, doc, field)
    right = evaluate(node.right, doc, field) if left else None
    if not left or not right:
        return None
    hits: set[Span] = set()
    for a in left:
        for b in right:
            gap = max(b[0] - a[1], a[0] - b[1]) - 1
            if gap <= node.distance and doc.fields[a[0]] == doc.fields[b[0]]:
                hits.update((a, b))
    return sorted(hits) or None


def common_start(a: str, b: str) -> str:
    """The longest common prefix of two words."""
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]
