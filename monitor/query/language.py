# ruff: noqa: RUF001 - the alphabets are deliberately multi-script
"""A document's language: the feed's hint, unless the text clearly says otherwise (detected per item).

Detection is py3langid's model (shipped in its wheel, loaded on first use), restricted to the languages
the matcher stems or has vocabulary for, on the start of the text only. A hint is kept when the text is
short, written only in the hint language's letters (then the model is not even loaded), mostly in other
scripts (Chinese, Hindi: languages outside the list), not clearly in one language, or clearly in the hint's
from its first words; it gives way to a confident detection of another language
(a feed that says ``en`` for a French item, ``ru`` for a Ukrainian one). Without a hint the detected
language is used when it is confident.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

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
# to be in the hint's language without loading the model (it costs about 65 MB resident, 120 MB at load).
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
def _identifier() -> Any:
    """py3langid's identifier over LANGUAGES, with probabilities. Its model loads in about 0.4 s and is cut
    to LANGUAGES on loading (about 50 MB instead of 80)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    keep = [i for i, language in enumerate(classes) if language in LANGUAGES]
    table = ptc[:, keep].copy(order="C")  # rows are gathered by feature
    return LanguageIdentifier(table, pc[keep], [classes[i] for i in keep], nextmove, output, True, tk_row=row)
