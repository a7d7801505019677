"""What an edit added, and near-duplicate fingerprints. Pure: no I/O.

Sentences are split with a small Unicode-aware rule set good enough for news text in Latin,
Cyrillic, Armenian and Arabic scripts. Fingerprints are 64-bit SimHashes over 3-word shingles,
stable across processes (blake2b, never Python's `hash`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from monitor.records import Article

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

_SHINGLE = 3
_BITS = 64
_MASK = (1 << _BITS) - 1

NEAR_DUPLICATE_DISTANCE = 10
"""Fingerprints at most this many bits apart are the same story (see tests/test_diff.py for the tuning)."""


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


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def _shingles(tokens: list[str]) -> list[str]:
    if len(tokens) < _SHINGLE:
        return [" ".join(tokens)] if tokens else []
    return list(map(" ".join, zip(*(tokens[i:] for i in range(_SHINGLE)), strict=False)))


def entry_hash(item: Article) -> str:
    """Fingerprint of a feed entry as the feed shows it: a change means the page may have changed."""
    stamp = item.updated.isoformat() if item.updated else ""
    return hashlib.sha256(f"{item.title}\n{item.summary}\n{stamp}".encode()).hexdigest()[:32]


def fingerprint(text: str) -> int:
    """64-bit SimHash of `text` over 3-word shingles of casefolded words (unsigned; 0 for no words).

    Bit k is set when more than half of the shingles' blake2b-64 hashes (read big-endian) have it
    set. The digests are laid end to end in one big integer, so bit k of every digest is counted at
    once: shift by k, keep the lowest bit of each 64-bit word, count the ones (all at C speed).
    """
    shingles = _shingles(_tokens(text))
    if not shingles:
        return 0
    blake2b = hashlib.blake2b
    digests = int.from_bytes(b"".join([blake2b(s.encode(), digest_size=8).digest() for s in shingles]))
    lowest = _lowest_bits(len(shingles))
    result = 0
    for bit in range(_BITS):
        if 2 * ((digests >> bit) & lowest).bit_count() > len(shingles):
            result |= 1 << bit
    return result


@lru_cache(maxsize=64)
def _lowest_bits(words: int) -> int:
    """An integer with the lowest bit of each of `words` 64-bit words set."""
    return int.from_bytes(b"\x00\x00\x00\x00\x00\x00\x00\x01" * words)


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK).bit_count()


# Six bands of 11/11/11/11/10/10 bits: by pigeonhole, fingerprints at most 5 bits apart always
# share a band, and measured on real edited articles 98% of pairs up to NEAR_DUPLICATE_DISTANCE do.
_BAND_WIDTHS = (11, 11, 11, 11, 10, 10)


def bands(value: int) -> tuple[int, ...]:
    """The fingerprint cut into bands; near duplicates almost always agree on at least one (index key)."""
    out: list[int] = []
    shift = 0
    for width in _BAND_WIDTHS:
        out.append(value >> shift & ((1 << width) - 1))
        shift += width
    return tuple(out)


def to_signed(value: int) -> int:
    """An unsigned 64-bit fingerprint as SQLite's signed INTEGER."""
    value &= _MASK
    return value - (1 << _BITS) if value >> (_BITS - 1) else value


def from_signed(value: int) -> int:
    """A fingerprint read back from SQLite, as the unsigned value `fingerprint` returns."""
    return value & _MASK
