"""A document tokenised once: folded tokens with field, sentence and character positions."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

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
    _langs: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._add(TITLE, self.title)
        self._add(BODY, self.body)

    def _add(self, which: int, text: str) -> None:
        ends = sentence_ends(text)
        start = 0
        cut = 0
        self.sentences.append(Sentence(which, 0, len(text)))
        for found in TOKEN_RE.finditer(text):
            while cut < len(ends) and ends[cut] <= found.start():
                self.sentences[-1].end = ends[cut]
                start = ends[cut]
                self.sentences.append(Sentence(which, start, len(text)))
                cut += 1
            folded = fold(found.group())
            parts = [folded] if _is_token(folded) else [m.group() for m in TOKEN_RE.finditer(folded)]
            for part in parts:
                self.by_norm.setdefault(part, []).append(len(self.norms))
                self.norms.append(part)
                self.starts.append(found.start())
                self.ends.append(found.end())
                self.fields.append(which)
                self.sents.append(len(self.sentences) - 1)

    def text(self, which: int) -> str:
        return self.title if which == TITLE else self.body

    def surface(self, index: int) -> str:
        """The token as written in the text."""
        return self.text(self.fields[index])[self.starts[index] : self.ends[index]]

    def with_prefix(self, prefix: str) -> list[str]:
        """Distinct folded words of the document that start with ``prefix``."""
        if self._sorted is None:
            self._sorted = sorted(self.by_norm)
        words = self._sorted
        out = []
        for i in range(bisect_left(words, prefix), len(words)):
            if not words[i].startswith(prefix):
                break
            out.append(words[i])
        return out

    def prefilter_keys(self) -> set[str]:
        """Two- and three-letter starts of the document's words (the query prefilter's keys)."""
        return {n[:3] for n in self.by_norm} | {n[:2] for n in self.by_norm}

    def stem_lang(self, script: str) -> str | None:
        """The stemmer language for words of ``script`` in this document."""
        if script not in self._langs:
            self._langs[script] = stem_lang(self.language, script)
        return self._langs[script]

    def sentence_text(self, sid: int) -> str:
        sentence = self.sentences[sid]
        return self.text(sentence.field)[sentence.start : sentence.end].strip()


def _is_token(word: str) -> bool:
    return TOKEN_RE.fullmatch(word) is not None
