"""A document tokenised once: folded tokens with field, sentence and character positions."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from monitor.query.text import TOKEN_RE, fold, sentence_ends, stem_lang

TITLE, BODY = 0, 1
FIELD_NAMES = ("title", "body")


@dataclass(slots=True)
class Sentence:
    """One sentence: its field and character range in that field's text."""

    field: int
    start: int
    end: int


@dataclass(slots=True)
class Document:
    """Title and body tokenised once; every query of every watch list reads this index."""

    title: str
    body: str
    language: str | None = None
    norms: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    fields: list[int] = field(default_factory=list)
    sents: list[int] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    by_norm: dict[str, list[int]] = field(default_factory=dict)
    cache: dict[object, object] = field(default_factory=dict)
    _sorted: list[str] | None = None
    _keys: set[str] | None = None
    _langs: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._add(TITLE, self.title)
        self._add(BODY, self.body)

    def _add(self, which: int, text: str) -> None:
        ends = sentence_ends(text)
        first = len(self.sentences)
        bounds = [0, *ends, len(text)]
        self.sentences.extend(Sentence(which, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1))
        norms, starts, stops, sents, by_norm = self.norms, self.starts, self.ends, self.sents, self.by_norm
        index, sid, boundary, last = len(norms), first, 0, len(ends)
        for found in TOKEN_RE.finditer(text):  # the hot loop of matching: keep it lean
            start, stop = found.span()
            while boundary < last and ends[boundary] <= start:  # tokens come in order: walk the sentence ends
                boundary += 1
                sid += 1
            for part in norm_parts(found.group()):
                positions = by_norm.get(part)
                if positions is None:
                    by_norm[part] = [index]
                else:
                    positions.append(index)
                index += 1
                norms.append(part)
                starts.append(start)
                stops.append(stop)
                sents.append(sid)
        self.fields.extend([which] * (len(norms) - len(self.fields)))

    def text(self, which: int) -> str:
        """The text of a field."""
        return self.title if which == TITLE else self.body

    def surface(self, index: int) -> str:
        """The token as written in the text."""
        return self.text(self.fields[index])[self.starts[index] : self.ends[index]]

    def sorted_words(self) -> list[str]:
        """The document's distinct folded words, sorted (for prefix look-ups by bisection)."""
        if self._sorted is None:
            self._sorted = sorted(self.by_norm)
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
            self._keys = {n[:3] for n in self.by_norm} | {n[:2] for n in self.by_norm}
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


@lru_cache(maxsize=200_000)
def norm_parts(token: str) -> tuple[str, ...]:
    """The folded word(s) of a token (folding can, rarely, split one)."""
    folded = fold(token)
    if TOKEN_RE.fullmatch(folded):
        return (folded,)
    return tuple(m.group() for m in TOKEN_RE.finditer(folded))
