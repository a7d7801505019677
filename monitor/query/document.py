"""A document tokenised once: folded tokens with field, sentence and character positions."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, count, pairwise, repeat
from operator import itemgetter
from typing import Any, Generic, TypeVar

from monitor.query.language import resolve
from monitor.query.text import TOKEN_RE, fold, sentence_ends, stem_lang

TITLE, BODY = 0, 1
FIELD_NAMES = ("title", "body")
FOLD_CACHE_SIZE = 200_000  # distinct tokens whose folded form is kept (the cache starts over when full)
_SPLIT = ""  # in the fold cache: the token folds into several words (or none), see norm_parts
_FOLDED: dict[str, str] = {}
_START2, _START3 = itemgetter(slice(2)), itemgetter(slice(3))
K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A kind of result worked out about a document and kept for the queries that ask again: a ``V`` by
    ``K``, in the document's ``memo(kind)`` (keys of kinds with one result per document are None)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Memo({self.name!r})"


@dataclass(slots=True)
class Sentence:
    """One sentence: its field and character range in that field's text."""

    field: int
    start: int
    end: int


class Document:
    """Title and body tokenised once; every query of every watch list reads this index.

    Token ``i`` has the folded word ``norms[i]``, the field ``fields[i]``, the sentence ``sents[i]``
    (an index into ``sentences``) and the character range ``starts[i]:ends[i]`` in its field's text.
    Character ranges and word positions are worked out on first use: most documents never need them, and
    so is ``language``, the language the text is in (``hint``, the caller's, unless the text clearly says
    otherwise: see monitor.query.language).
    """

    __slots__ = (
        "_keys",
        "_langs",
        "_language",
        "_memos",
        "_positions",
        "_resolved",
        "_sorted",
        "_spans",
        "_split",
        "_words",
        "body",
        "fields",
        "hint",
        "norms",
        "sentences",
        "sents",
        "title",
    )

    def __init__(self, title: str, body: str, language: str | None = None) -> None:
        self.title, self.body, self.hint = title, body, language
        self._language: str | None = None
        self._resolved = False  # whether ``_language`` has been worked out
        self.norms: list[str] = []
        self.fields: list[int] = []
        self.sents: list[int] = []
        self.sentences: list[Sentence] = []
        self._memos: dict[Memo[Any, Any], dict[Any, Any]] = {}
        self._positions: dict[str, list[int]] = {}
        self._split = False
        self._spans: dict[int, list[tuple[int, int]]] = {}
        self._words: set[str] | None = None
        self._sorted: list[str] | None = None
        self._keys: set[str] | None = None
        self._langs: dict[str, str | None] = {}
        self._add(TITLE, title)
        self._add(BODY, body)

    def _add(self, which: int, text: str) -> None:
        """Tokenise one field a sentence at a time, then fold all its tokens at once (the hot path of
        matching: only C-speed calls per token)."""
        bounds = [0, *sentence_ends(text), len(text)]
        first = len(self.sentences)
        self.sentences += [Sentence(which, start, end) for start, end in pairwise(bounds)]
        tokens = [TOKEN_RE.findall(text, start, end) for start, end in pairwise(bounds)]
        folded = folded_words(list(chain.from_iterable(tokens)))
        if _SPLIT in folded:
            self._split = True
            tokens = [[part for token in sentence for part in norm_parts(token)] for sentence in tokens]
            folded = list(chain.from_iterable(tokens))
        self.norms += folded
        self.sents += chain.from_iterable(map(repeat, count(first), map(len, tokens)))
        self.fields += repeat(which, len(folded))

    def memo(self, kind: Memo[K, V]) -> dict[K, V]:
        """This document's results of ``kind``, by key: read and filled by the code that works them out."""
        found = self._memos.get(kind)
        if found is None:
            found = self._memos[kind] = {}
        return found

    def __repr__(self) -> str:
        return f"Document(title={self.title!r}, body={self.body!r}, language={self.hint!r})"

    @property
    def language(self) -> str | None:
        """The language the text is in: the hint unless the text is clearly in another (None: unknown)."""
        if not self._resolved:
            self._language, self._resolved = resolve(self.hint, f"{self.title}\n{self.body}"), True
        return self._language

    def char_span(self, index: int) -> tuple[int, int]:
        """Token ``index``'s character range in its field's text (worked out a sentence at a time)."""
        sid = self.sents[index]
        spans = self._spans.get(sid)
        if spans is None:
            sentence = self.sentences[sid]
            found = TOKEN_RE.finditer(self.text(sentence.field), sentence.start, sentence.end)
            if self._split:
                spans = [span for m in found for span in repeat(m.span(), _width(m.group()))]
            else:
                spans = [m.span() for m in found]
            self._spans[sid] = spans
        return spans[index - bisect_left(self.sents, sid)]

    def words(self) -> set[str]:
        """The document's distinct folded words."""
        if self._words is None:
            self._words = set(self.norms)
        return self._words

    def positions(self, word: str) -> list[int]:
        """Token indices, in order, of a folded word (empty when the document does not hold it)."""
        found = self._positions.get(word)
        if found is None:
            found = self._positions[word] = _indices(self.norms, word) if word in self.words() else []
        return found

    def text(self, which: int) -> str:
        """The text of a field."""
        return self.title if which == TITLE else self.body

    def surface(self, index: int) -> str:
        """The token as written in the text."""
        start, end = self.char_span(index)
        return self.text(self.fields[index])[start:end]

    def sorted_words(self) -> list[str]:
        """The document's distinct folded words, sorted (for prefix look-ups by bisection)."""
        if self._sorted is None:
            self._sorted = sorted(self.words())
        return self._sorted

    def with_prefix(self, prefix: str) -> list[str]:
        """Distinct folded words of the document that start with ``prefix``."""
        words = self.sorted_words()
        out = []
        for i in range(bisect_left(words, prefix), len(words)):
            if not words[i].startswith(prefix):
                break
            out.append(words[i])
        return out

    def has_prefix(self, prefix: str) -> bool:
        """Whether some word of the document starts with ``prefix``."""
        words = self.sorted_words()
        at = bisect_left(words, prefix)
        return at < len(words) and words[at].startswith(prefix)

    def prefilter_keys(self) -> set[str]:
        """Two- and three-letter starts of the document's words (the query prefilter's keys)."""
        if self._keys is None:
            words = self.words()
            self._keys = set(map(_START3, words))
            self._keys.update(map(_START2, words))
        return self._keys

    def stem_lang(self, script: str) -> str | None:
        """The stemmer language for words of ``script`` in this document."""
        if script not in self._langs:
            self._langs[script] = stem_lang(self.language, script)
        return self._langs[script]

    def sentence_text(self, sid: int) -> str:
        """A sentence's text, stripped."""
        sentence = self.sentences[sid]
        return self.text(sentence.field)[sentence.start : sentence.end].strip()


def folded_words(tokens: list[str]) -> list[str]:
    """Each token's folded word, or ``_SPLIT`` for a token whose folding splits it (see norm_parts)."""
    try:
        return list(map(_FOLDED.__getitem__, tokens))
    except KeyError:
        return [_fold_token(token) for token in tokens]


def _fold_token(token: str) -> str:
    """A token's folded word (``_SPLIT`` if it folds into several words or none), through the fold cache."""
    found = _FOLDED.get(token)
    if found is None:
        if len(_FOLDED) >= FOLD_CACHE_SIZE:
            _FOLDED.clear()
        parts = norm_parts(token)
        found = _FOLDED[token] = parts[0] if len(parts) == 1 else _SPLIT
    return found


def _width(token: str) -> int:
    """How many folded words a token gives."""
    return 1 if _FOLDED.get(token) else len(norm_parts(token))


def _indices(items: list[str], item: str) -> list[int]:
    """Every index of ``item`` in ``items`` (which holds it at least once)."""
    out = [items.index(item)]
    try:
        while True:
            out.append(items.index(item, out[-1] + 1))
    except ValueError:
        return out


@lru_cache(maxsize=200_000)
def norm_parts(token: str) -> tuple[str, ...]:
    """The folded word(s) of a token (folding can, rarely, split one)."""
    folded = fold(token)
    if TOKEN_RE.fullmatch(folded):
        return (folded,)
    return tuple(m.group() for m in TOKEN_RE.finditer(folded))
