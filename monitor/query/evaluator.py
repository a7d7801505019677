"""Evaluate a query AST against a Document.

A result is ``None`` when the query does not match, else the list of token spans ``(first, last)``
that show it does (empty for a match without evidence, e.g. ``NOT x``).
"""

from __future__ import annotations

from functools import lru_cache

from monitor.query.document import FIELD_NAMES, Document, Memo
from monitor.query.morphology import (
    MIN_COMPOUND_TAIL,
    MIN_STEM_WORD,
    SUFFIX_CHAINS,
    arabic_readings,
    arabic_starts,
    compound_heads,
    is_arabic,
    stem_and_start,
    stem_start,
    suffix_start,
    suffixed,
    tail_start,
    turkic_written,
    words_with_tail,
)
from monitor.query.nodes import And, Near, Not, Or, Phrase, Prefix, Query, Term
from monitor.query.prefilter import possible
from monitor.query.text import script_of, stem

__all__ = ["Result", "Span", "evaluate", "is_form", "matches_word", "stem_start", "word_positions"]

Span = tuple[int, int]
Result = list[Span] | None
_LEAVES: Memo[tuple[Term | Prefix | Phrase, int | None], list[Span]] = Memo("leaf spans by field")
_WORDS: Memo[tuple[Term | Prefix, bool], list[int]] = Memo("word positions")


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
    if isinstance(node, Or):  # parts the document lacks a needed word for are skipped (most parts, mostly)
        tried = (evaluate(part, doc, field) for part in node.parts if possible(part, doc))
        results = [r for r in tried if r is not None]
        return [span for r in results for span in r] if results else None
    if isinstance(node, Not):
        return [] if evaluate(node.part, doc, field) is None else None
    if isinstance(node, Near):
        return _near(node, doc, field)
    return evaluate(node.part, doc, FIELD_NAMES.index(node.name))


def _leaf(node: Term | Prefix | Phrase, doc: Document, field: int | None) -> list[Span]:
    memo, key = doc.memo(_LEAVES), (node, field)
    cached = memo.get(key)
    if cached is None:
        if isinstance(node, Phrase):
            cached = _phrase(node, doc, field)
        else:
            cached = [(i, i) for i in word_positions(node, doc) if field is None or doc.fields[i] == field]
        memo[key] = cached
    return cached


def word_positions(node: Term | Prefix, doc: Document, exact: bool = False) -> list[int]:
    """Token indices of the words a Prefix matches, or a Term: the same word, or one of its forms
    (see is_form; quoted, ``exact``, only the Arabic words with its proclitics)."""
    memo, key = doc.memo(_WORDS), (node, exact)
    cached = memo.get(key)
    if cached is not None:
        return cached
    if isinstance(node, Prefix):
        matched = doc.with_prefix(node.text)
    else:
        matched = [node.text] if node.text in doc.words() else []
        matched += _forms(node, doc, exact)
    out = doc.positions(matched[0]) if len(matched) == 1 else sorted(i for word in matched for i in doc.positions(word))
    memo[key] = out
    return out


def _forms(node: Term, doc: Document, exact: bool) -> list[str]:
    """The other words of ``doc`` that are forms of a Term (is_form), found among the words that
    start (or, German compounds, have a tail that starts) as its forms do."""
    term = node.text
    if is_arabic(term):
        candidates = {w for start in arabic_starts(term) for w in doc.with_prefix(start)}
        return sorted(w for w in candidates if w != term and is_form(node, w, None, exact))
    lang = doc.stem_lang(script_of(term))
    if exact or lang is None or len(term) < MIN_STEM_WORD:
        return []
    if _chains(node, lang) is None and lang != "de":
        return _inflections(lang, term, doc)
    found = [w for w in doc.with_prefix(_form_start(lang, term)) if w != term and is_form(node, w, lang)]
    if lang == "de" and len(term) >= MIN_COMPOUND_TAIL:
        found += [w for w in words_with_tail(doc, tail_start(term)) if w not in found and _compound(term, w)]
    return found


def _inflections(lang: str, term: str, doc: Document) -> list[str]:
    """The other words of ``doc`` that inflect ``term`` in ``lang`` (_inflects, word by word)."""
    base, start = stem_and_start(lang, term)
    if len(start) < MIN_STEM_WORD - 1:
        return []
    size = len(term)
    return [w for w in doc.with_prefix(start) if w != term and len(w) >= size and stem(lang, w) == base]


def is_form(node: Term, word: str, lang: str | None, exact: bool = False) -> bool:
    """Whether a folded word other than the Term's is a form of it in a document whose stemmer for the
    term's script is ``lang``: an Arabic word with the term among its readings; else (not ``exact``)
    an inflection (same stem, at least as long, same start as the stem), a suffix chain of the
    language (Turkish for a word written with Turkish letters), or a German compound ending in one of
    those (see monitor.query.morphology)."""
    term = node.text
    if is_arabic(term):
        return term in arabic_readings(word, not exact)
    if exact or lang is None or len(term) < MIN_STEM_WORD:
        return False
    chains = _chains(node, lang)
    return (
        _inflects(lang, term, word)
        or (chains is not None and suffixed(chains, term, word))
        or (lang == "de" and _compound(term, word))
    )


def _chains(node: Term, lang: str) -> str | None:
    """The language whose suffix chains a Term takes in a document stemmed in ``lang`` (None: none)."""
    chains = "tr" if node.written and turkic_written(node.written) else lang
    return chains if chains in SUFFIX_CHAINS else None


def _inflects(lang: str, term: str, word: str) -> bool:
    """Same stem in ``lang``, at least as long, starting with the start the term shares with its stem."""
    base, start = stem_and_start(lang, term)
    return (
        len(start) >= MIN_STEM_WORD - 1
        and word.startswith(start)
        and len(word) >= len(term)
        and stem(lang, word) == base
    )


def _compound(term: str, word: str) -> bool:
    """Whether a word is a German compound whose last part is ``term`` or an inflection of it."""
    if len(term) < MIN_COMPOUND_TAIL:
        return False
    return any(word[at:] == term or _inflects("de", term, word[at:]) for at in compound_heads(word, tail_start(term)))


@lru_cache(maxsize=100_000)
def _form_start(lang: str, term: str) -> str:
    """The start every inflected or suffixed form of ``term`` in ``lang`` begins with."""
    start = stem_and_start(lang, term)[1]
    return min(start if len(start) >= MIN_STEM_WORD - 1 else term, suffix_start(term), key=len)


def matches_word(node: Term | Prefix, word: str, lang: str | None) -> bool:
    """Whether a folded word matches a Prefix, or a Term (the same word or one of its forms),
    exactly as word_positions finds words (``lang`` is the document's stemmer for the term's script)."""
    if isinstance(node, Prefix):
        return word.startswith(node.text)
    return word == node.text or is_form(node, word, lang)


def _phrase(node: Phrase, doc: Document, field: int | None) -> list[Span]:
    if not all(word_positions(w, doc, exact=node.exact) for w in _rarest_first(node)):
        return []  # settled without the positions of its common words (of, the, des ...)
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


@lru_cache(maxsize=10_000)
def _rarest_first(node: Phrase) -> tuple[Term | Prefix, ...]:
    """A phrase's words, longest (most often the rarest) first."""
    return tuple(sorted(node.words, key=lambda w: -len(w.text)))


def _near(node: Near, doc: Document, field: int | None) -> Result:
    left = evaluate(node.left, doc, field)
    right = evaluate(node.right, doc, field) if left else None
    if not left or not right:
        return None
    hits: set[Span] = set()
    for a in left:
        for b in right:
            gap = max(b[0] - a[1], a[0] - b[1]) - 1
            if gap <= node.distance and doc.sents[a[0]] == doc.sents[b[0]]:  # one sentence (so one field)
                hits.update((a, b))
    return sorted(hits) or None
