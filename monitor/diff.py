"""What an edit added: the sentences of the new text that the old one lacks. Pure: no I/O.

Sentences are split with a small Unicode-aware rule set good enough for news text in Latin,
Cyrillic, Armenian and Arabic scripts.
"""

from __future__ import annotations

import re
import unicodedata

# Sentence ends: . ! ? … and the Armenian full stop (U+0589), Arabic question mark (U+061F) and
# Urdu full stop (U+06D4). Armenian text on
# the web often uses an ASCII colon as its full stop, so a colon after an Armenian letter counts too.
_BOUNDARY = re.compile(
    r"(?:[.!?\u2026\u0589\u061f\u06d4]+|(?<=[\u0531-\u0587]):)"  # terminator(s)
    r"[\"'\u00bb\u201d\u2019\u203a)\]]*"  # closing quotes and brackets stay with their sentence
    r"\s+"
)
_WORD_BEFORE = re.compile(r"(\w+)\W*$")
# Words that end with a dot without ending a sentence (compared casefolded, dot stripped).
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "maj", "capt", "sgt", "jr", "sr", "vs", "etc"),
        *("inc", "ltd", "corp", "dept", "gov", "sen", "jan", "feb", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("тыс", "млн", "млрд", "руб", "ул", "гг", "см", "стр", "др"),  # noqa: RUF001
    }
)
# Abbreviations that are also everyday words: only before a number ("No. 5", "Art. 3").
_NUMBER_ABBREVIATIONS = frozenset(("no", "nos", "art", "fig", "p", "pp", "vol", "st"))

def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order; every line break is a boundary too.

    Not the matcher's `query.text.sentence_ends`, on purpose: that one cuts at blank lines only, ignores
    the case of what follows and quotes after a stop, and knows fewer abbreviations; either one in the
    other's place would change what an edit added or what a query matches.
    """
    sentences: list[str] = []
    for paragraph in text.splitlines():
        sentences.extend(_split_paragraph(paragraph.rstrip()))  # a stop before trailing spaces ends it
    return sentences


def _split_paragraph(paragraph: str) -> list[str]:
    out: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(paragraph):
        if _ends_sentence(paragraph, boundary):
            out.append(paragraph[start : boundary.end()].strip())
            start = boundary.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


def _ends_sentence(paragraph: str, boundary: re.Match[str]) -> bool:
    """A candidate boundary ends a sentence unless a lowercase word follows or it closes an abbreviation."""
    following = paragraph[boundary.end()]
    if following.islower():
        return False
    if not boundary.group().startswith(".") or not boundary.group()[1:2].isspace():
        return True  # another stop, several stops, or a dot inside closing quotes
    word = _WORD_BEFORE.search(paragraph, 0, boundary.start())
    if word is None:
        return True
    token = word.group(1).casefold()
    if len(token) == 1 and token.isalpha():
        return False  # an initial, as in "J. Smith"
    return token not in _ABBREVIATIONS and not (following.isdigit() and token in _NUMBER_ABBREVIATIONS)


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
