# ruff: noqa: RUF001 - the alphabets are deliberately multi-script
"""A document's language: the feed's hint, unless the text clearly says otherwise (detected per item).

Detection is py3langid's model (shipped in its wheel), restricted to the languages the matcher stems or
has vocabulary for, on the start of the text only. On first use the model is cut to those languages and
cached uncompressed in the user's cache directory, keyed by the wheel's model checksum; processes map
the cache, so loading takes milliseconds and only the parts of the tables that texts reach are read
(and shared between processes). A hint is kept when the text is
short, written only in the hint language's letters (then the model is not even loaded), mostly in other
scripts (Chinese, Hindi: languages outside the list), not clearly in one language, or clearly in the hint's
from its first words; it gives way to a confident detection of another language
(a feed that says ``en`` for a French item, ``ru`` for a Ukrainian one). Without a hint the detected
language is used when it is confident.
"""

from __future__ import annotations

import hashlib
import logging
import lzma
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zipfile import ZipFile

    from py3langid.langid import LanguageIdentifier

log = logging.getLogger(__name__)

LANGUAGES = ("ar", "az", "de", "en", "es", "fr", "hy", "it", "pt", "ru", "tr", "uk")
SAMPLE_CHARS = 300  # the start of a text says its language (on the dev sets as well as 1,000 characters)
CONFIRM_CHARS = 100  # a hint the text's first characters confidently agree with needs no more reading
MIN_LETTERS = 24  # fewer letters (of the languages' scripts) than this: too short to overrule a hint
CONFIDENCE = 0.95  # the probability (among LANGUAGES) that detection must reach to be believed

# Letters of the scripts of LANGUAGES: Latin, Cyrillic, Armenian, Arabic.
_KNOWN = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u0400-\u052f\u0531-\u0556\u0561-\u0587\u0620-\u064a\u066e-\u06d3"
_KNOWN_LETTER = re.compile(f"[{_KNOWN}]")
_OTHER_LETTER = re.compile(f"[^\\W\\d_{_KNOWN}]")
_ENOUGH_LETTERS = re.compile(f"(?:[^{_KNOWN}]*[{_KNOWN}]){{{MIN_LETTERS}}}")


def base_language(language: str) -> str:
    """The language of a tag: ``en-US`` -> ``en``."""
    return language.lower().replace("_", "-").split("-")[0]


# Each language's letters (folded to lower case): a hinted text whose start has no other letter is taken
# to be in the hint's language without running the model (or loading it: see _identifier).
_ALPHABETS = {
    "en": "a-z",
    "fr": "a-zàâæçéèêëîïôœùûüÿ",
    "de": "a-zäöüß",
    "es": "a-záéíóúüñ",
    "pt": "a-záâãàçéêíóôõúü",
    "it": "a-zàèéìíîòóùú",
    "tr": "a-zçğıöşüâîû",
    "az": "a-zçəğıöşü",
    "ru": "а-яё",
    "uk": "а-щьюяєіїґ'’ʼ",
    "hy": "\u0561-\u0587",
    "ar": "\u0620-\u064a\u066e-\u06d3\u064b-\u065f\u0670",
}
_FOREIGN = {language: re.compile(f"[^\\W\\d_{letters}]") for language, letters in _ALPHABETS.items()}


def resolve(hint: str | None, text: str) -> str | None:
    """The language of ``text`` (a document's title and body): the detected language when detection is
    confident and the hint says another or nothing, else the hint (None: unknown)."""
    foreign = _FOREIGN.get(base_language(hint)) if hint else None
    if foreign is not None and not foreign.search(text[:SAMPLE_CHARS].lower()):
        return hint  # nothing in the text's letters says otherwise
    if hint and detect(text[:CONFIRM_CHARS]) == base_language(hint):
        return hint  # most hints are right, and this shorter look (half the cost) settles them
    detected = detect(text)
    if detected is None or (hint and base_language(hint) == detected):
        return hint or None
    return detected


def detect(text: str) -> str | None:
    """The language of LANGUAGES that ``text`` is confidently in, or None (too short, other scripts, unsure)."""
    sample = text[:SAMPLE_CHARS]
    if not _ENOUGH_LETTERS.match(sample):
        return None
    other = len(_OTHER_LETTER.findall(sample))
    if other and other > len(_KNOWN_LETTER.findall(sample)):
        return None
    language, probability = _identifier().classify(sample)
    return str(language) if probability >= CONFIDENCE else None


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's identifier over LANGUAGES, with probabilities, on the cached trimmed model's mapped arrays
    (its scores are py3langid's own: the same tables, read in place instead of copied)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = _model(MODEL_DIR / MODEL_FILE)
    identifier = LanguageIdentifier(
        model["ptc"],
        model["pc"],
        model["classes"].tolist(),
        memoryview(model["nextmove"]),
        memoryview(model["output"]),
        True,
        tk_row=(),
    )
    # The DFA's row offsets, pre-shifted as py3langid's constructor does, read from the map rather than
    # built as a list of 100,000 ints (py3langid 0.4's classify reads them from this slot).
    identifier._rowbase = memoryview(model["rowbase"])
    return identifier


CACHE_FORMAT = b"1"  # changes when the files written by _build change
_FILES = ("ptc", "pc", "classes", "nextmove", "rowbase", "output")
_BLOCK_BYTES = 1 << 20  # the big tables are copied through blocks of this size, never held whole


def cache_dir() -> Path:
    """Where the trimmed model is cached: ``$XDG_CACHE_HOME/ceasefire-monitor`` (``~/.cache`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ceasefire-monitor"


def _model(source: Path) -> dict[str, Any]:
    """The trimmed model's arrays, memory-mapped from the cache (built on first use); from a temporary
    directory when the cache cannot be written (the maps outlive its removal)."""
    digest = hashlib.sha256(source.read_bytes() + CACHE_FORMAT + ",".join(LANGUAGES).encode()).hexdigest()
    cached = cache_dir() / f"langid-{digest[:24]}"
    if not cached.is_dir():
        try:
            _publish(source, cached)
        except OSError as error:
            log.warning("cannot cache the language model in %s (%s): built for this process only", cached, error)
            with tempfile.TemporaryDirectory(prefix="langid-") as tmp:
                _build(source, Path(tmp))
                return _load(Path(tmp))
    return _load(cached)


def _load(folder: Path) -> dict[str, Any]:
    import numpy as np

    return {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _FILES}


def _publish(source: Path, cached: Path) -> None:
    """Build the trimmed model beside ``cached`` and rename it into place (a process that lost the race
    to another one's rename drops its own copy)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".langid-", dir=cached.parent))
    try:
        _build(source, staging)
        try:
            staging.rename(cached)
        except OSError:
            if not cached.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build(source: Path, folder: Path) -> None:
    """Write py3langid's model cut to LANGUAGES into ``folder``, one ``.npy`` file per array: the class
    columns of ``ptc``/``pc``/``classes`` kept, the DFA as it is, its row offsets pre-shifted (``<< 8``)."""
    import numpy as np

    with tempfile.TemporaryFile(dir=folder) as npz:  # the uncompressed npz, on the cache's disk
        with lzma.open(source) as compressed:
            shutil.copyfileobj(compressed, npz, _BLOCK_BYTES)
        npz.seek(0)
        with np.load(npz, allow_pickle=False) as model:  # members are read one at a time
            classes = model["classes"]
            keep = [i for i, language in enumerate(classes.tolist()) if language in LANGUAGES]
            np.save(folder / "classes.npy", classes[keep])
            np.save(folder / "pc.npy", model["pc"][keep])
            np.save(folder / "rowbase.npy", model["nextmove_row"].astype(np.uint32) << 8)
            np.save(folder / "output.npy", model["out_feat"])
            _copy_member(model.zip, "ptc", folder, keep)
            _copy_member(model.zip, "nextmove", folder, None)


def _copy_member(archive: ZipFile, name: str, folder: Path, columns: Sequence[int] | None) -> None:
    """Copy one array of the npz to ``folder/name.npy`` block by block, keeping only ``columns`` (all: None)."""
    import numpy as np

    with archive.open(f"{name}.npy") as member, (folder / f"{name}.npy").open("wb") as out:
        shape, dtype = _array_header(member)
        row_bytes = dtype.itemsize * int(np.prod(shape[1:]))
        kept = shape if columns is None else (shape[0], len(columns))
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": kept}
        np.lib.format.write_array_header_1_0(out, header)
        rows_per_block = max(1, _BLOCK_BYTES // row_bytes)
        for start in range(0, shape[0], rows_per_block):
            count = min(rows_per_block, shape[0] - start)
            block = np.frombuffer(member.read(count * row_bytes), dtype).reshape(count, *shape[1:])
            out.write((block if columns is None else block[:, columns]).tobytes())


def _array_header(member: IO[bytes]) -> tuple[tuple[int, ...], Any]:
    """The shape and dtype of the ``.npy`` stream ``member``, left at the start of its (C-order) data."""
    import numpy as np

    version = np.lib.format.read_magic(member)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read(member)
    if fortran_order:
        raise ValueError(f"{member}: a Fortran-order array")
    return shape, dtype
