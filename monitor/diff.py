"""What an edit added: the sentences of the new text that the old one lacks. Pure: no I/O.

Sentences are the matcher's (`query.text.sentence_ends`), and every line break ends one too.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

from monitor.query.text import sentence_ends


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order; every line break is a boundary too."""
    sentences: list[str] = []
    for paragraph in text.splitlines():
        paragraph = paragraph.rstrip()  # a stop before trailing spaces ends it
        bounds = [0, *sentence_ends(paragraph), len(paragraph)]
        sentences.extend(s for a, b in pairwise(bounds) if (s := paragraph[a:b].strip()))
    return sentences


def normalise(sentence: str) -> str:
    """The form sentences are compared in: NFKC, casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", sentence).casefold().split())


def added_sentences(old: str, new: str) -> list[str]:
    """Sentences of `new` that `old` does not have, in order, each once."""
    seen = {normalise(s) for s in split_sentences(old)}
    added: list[str] = []
    for sentence in split_sentences(new):
        key = normalise(sentence)
        if key not in seen:
            seen.add(key)
            added.append(sentence)
    return added
