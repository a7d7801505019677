"""Near-duplicate fingerprints of article text and change hashes of feed entries. Pure: no I/O.

Fingerprints are 64-bit SimHashes over 3-word shingles, stable across processes (blake2b, never
Python's `hash`); the store keeps them signed (`to_signed`) and indexes them by `bands`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from monitor.records import Article

_SHINGLE = 3
_BITS = 64
_MASK = (1 << _BITS) - 1

NEAR_DUPLICATE_DISTANCE = 10
"""Fingerprints at most this many bits apart are the same story (see tests/test_diff.py for the tuning)."""


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
    set: the digests, laid end to end, are unpacked into a shingles x 64 matrix of bits and counted
    by column in numpy (imported on the first fingerprint: a cycle of 304s never needs it).
    """
    shingles = _shingles(_tokens(text))
    if not shingles:
        return 0
    import numpy as np

    blake2b = hashlib.blake2b
    digests = np.frombuffer(b"".join([blake2b(s.encode(), digest_size=8).digest() for s in shingles]), np.uint8)
    majority = np.unpackbits(digests).reshape(-1, _BITS).sum(axis=0) * 2 > len(shingles)  # most significant first
    return int.from_bytes(np.packbits(majority).tobytes())


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
