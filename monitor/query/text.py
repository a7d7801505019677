# ruff: noqa: RUF001, RUF002, RUF003 - the lexicon is deliberately multi-script
"""Text normalisation: tokens, script-aware case and diacritic folding, sentences, stemming.

Folding is deliberately conservative. Latin letters lose their diacritics (``atəşkəs`` ~ ``ateskes``,
``trêve`` ~ ``treve``); Cyrillic only folds ``ё`` to ``е`` (``й``, ``ї`` and ``ґ`` stay distinct letters);
Arabic drops vowel marks and tatweel and unifies the hamza forms of alef, nothing more; Armenian drops
the in-word stress/question marks; an apostrophe inside a Cyrillic word goes (``перемир’я`` ~ ``перемиря``).
Everything is case-folded. Compatibility forms (fullwidth letters, ligatures, Arabic presentation forms)
become their plain letters (NFKC), and in a word written in both Latin and Cyrillic letters the look-alike
letters of its minority script become its majority script's (``ceаsefire`` with a Cyrillic ``а`` ~
``ceasefire``); a word in one script keeps its letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import Stemmer

# In-word marks and invisible characters that belong to the word they sit in (dropped by fold()).
_IN_WORD = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u055b-\u055f\u00ad\u200b-\u200d\u2060\ufeff"
)
# An apostrophe inside a Cyrillic word (Ukrainian перемир'я, перемир’я, перемирʼя) is part of it, and
# folding drops it. The modifier letters ʼ and ʻ are letters anyway; ', ’ and ` join two Cyrillic letters
# only, so English "ceasefire's" stays two words.
_APOSTROPHES = "'\u2019`\u02bc\u02bb"
_CYRILLIC = "\u0400-\u0482\u048a-\u052f"
_JOIN = rf"(?<=[{_CYRILLIC}])['\u2019`](?=[{_CYRILLIC}])"
TOKEN_RE = re.compile(rf"[^\W_][^\W_{_IN_WORD}]*(?:(?:[{_IN_WORD}]+|{_JOIN})[^\W_]+)*[{_IN_WORD}]*")
SENTENCE_MARKS = ".!?։。！？؟…۔"
_CLOSERS = "\"'\u00bb\u201d\u2019\u203a)]"  # closing quotes and brackets stay with their sentence
_BLANK_LINE = re.compile(r"\n\s*\n")
_ARMENIAN_COLON = re.compile(r"(?<=[\u0531-\u0587]):")  # web Armenian's usual full stop
_GAP = 8  # characters of punctuation looked through for the word before a dot ("Inc.)." reads "Inc")
# Words that end with a dot without ending a sentence (compared casefolded, dot stripped).
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "maj", "capt", "sgt", "jr", "sr", "vs", "etc"),
        *("inc", "ltd", "corp", "dept", "gov", "sen", "jan", "feb", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("тыс", "млн", "млрд", "руб", "ул", "гг", "см", "стр", "др"),
    }
)
# Abbreviations that are also everyday words: only before a number ("No. 5", "Art. 3").
_NUMBER_ABBREVIATIONS = frozenset(("no", "nos", "art", "fig", "p", "pp", "vol", "st"))
_DROP = re.compile(rf"[{_IN_WORD}\u0640{_APOSTROPHES}]")
_SPECIAL = str.maketrans(
    {
        "ё": "е",
        "ə": "e",
        "ı": "i",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
    }
)

# Latin and Cyrillic letters that look alike, pair by pair; to Latin also the look-alikes of letters
# that Russian and Ukrainian lack (Serbian ј, Macedonian ѕ, Kazakh һ, ...).
_LATIN_PAIRS, _CYRILLIC_PAIRS = "AaBCcEeËëHIiÏïKMOoPpTXxYy", "АаВСсЕеЁёНІіЇїКМОоРрТХхУу"
_TO_LATIN = str.maketrans(_CYRILLIC_PAIRS + "ЅѕЈјҺһԚԛԜԝӀӏ", _LATIN_PAIRS + "SsJjHhQqWwIl")
_TO_CYRILLIC = str.maketrans(_LATIN_PAIRS, _CYRILLIC_PAIRS)
_LATIN_LETTERS, _CYRILLIC_LETTERS = "A-Za-z\u00c0-\u024f\u1e00-\u1eff", "\u0400-\u052f"  # as _unmix tells them
_HAS_LATIN = re.compile(f"[{_LATIN_LETTERS}]")
_HAS_CYRILLIC = re.compile(f"[{_CYRILLIC_LETTERS}]")

LATIN, CYRILLIC, ARMENIAN, ARABIC, OTHER = "latin", "cyrillic", "armenian", "arabic", "other"

# Document language -> snowball algorithm. Arabic is left out on purpose: its stemmer strips
# prefixes and folds letters, which would let a query match inside unrelated words.
STEMMERS = {
    "en": "english",
    "ru": "russian",
    "uk": "russian",
    "hy": "armenian",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "pt": "portuguese",
    "it": "italian",
    "tr": "turkish",
}
_LANG_SCRIPT = {lang: (ARMENIAN if lang == "hy" else CYRILLIC if lang in ("ru", "uk") else LATIN) for lang in STEMMERS}
SCRIPT_DEFAULT_LANG = {LATIN: "en", CYRILLIC: "ru", ARMENIAN: "hy"}
SCRIPT_LANGS = {s: tuple(lang for lang, sc in _LANG_SCRIPT.items() if sc == s) for s in (LATIN, CYRILLIC, ARMENIAN)}


def script_of(word: str) -> str:
    """The script of a word's first letter."""
    code = ord(word[0]) if word else 0
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return LATIN
    if 0x400 <= code <= 0x52F:
        return CYRILLIC
    if 0x530 <= code <= 0x58F:
        return ARMENIAN
    if 0x600 <= code <= 0x6FF or 0x750 <= code <= 0x77F:
        return ARABIC
    return OTHER


def _unmix(word: str) -> str:
    """A word with both Latin and Cyrillic letters, its minority script's look-alike letters in its majority
    script: the script of most of its letters that have no look-alike, else of most of its letters (a tie
    leaves the word as it is)."""
    if not (_HAS_LATIN.search(word) and _HAS_CYRILLIC.search(word)):
        return word
    latin = [c for c in word if c.isalpha() and script_of(c) == LATIN]
    cyrillic = [c for c in word if c.isalpha() and script_of(c) == CYRILLIC]
    own_latin = sum(c not in _LATIN_PAIRS for c in latin)
    own_cyrillic = sum(ord(c) not in _TO_LATIN for c in cyrillic)
    lead = own_latin - own_cyrillic or len(latin) - len(cyrillic)
    return word.translate(_TO_LATIN) if lead > 0 else word.translate(_TO_CYRILLIC) if lead < 0 else word


def _fold_char(char: str) -> str:
    """Strip diacritics from a Latin letter; leave every other script's letters alone."""
    if script_of(char) != LATIN:
        return char
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Case- and diacritic-fold one word (idempotent)."""
    for _ in range(3):
        folded = _unmix(unicodedata.normalize("NFKC", word)).casefold().translate(_SPECIAL)
        folded = _DROP.sub("", "".join(_fold_char(c) for c in unicodedata.normalize("NFC", folded)))
        folded = unicodedata.normalize("NFC", folded)
        if folded == word:
            break
        word = folded
    return word


# The characters screen_fold is exact on, each checked by tests/test_prefilter_screen.py: ASCII, Latin, combining
# diacritics, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Bengali, Thai, punctuation, symbols, CJK
# ideographs, Hangul and emoji; not the few that fold into letters of another script or outside these, into
# several words or into a letter and a mark (ª º ¼ ½ ¾ Ŀ ŀ Ⱥ Ⱦ ẚ, Latin modifier letters, a few Greek symbols,
# Devanagari and Bengali nukta letters, Thai sara am, Hangzhou numerals), nor U+0345, a Greek mark.
SCREEN_CHARS = (
    "\x00-\xa9\xab-\xb9\xbb\xbf-\u013e\u0141-\u0239\u023b-\u023d\u023f-\u02af\u02bb\u02bc\u0300-\u0344"
    "\u0346-\u036f\u0370-\u0373\u0375-\u0379\u037b-\u03d1\u03d5-\u03f1\u03f3-\u03f8\u03fa-\u052f\u0531-\u058f"
    "\u0590-\u06ff\u0750-\u077f\u0900-\u0928\u092a-\u0930\u0932\u0933\u0935-\u0957\u0960-\u09db\u09de"
    "\u09e0-\u09ff\u0e00-\u0e32\u0e34-\u0e7f\u1e00-\u1e99\u1e9b-\u1eff\u2000-\u206f\u20a0-\u20a7\u20a9-\u20ff"
    "\u2190-\u23ff\u2500-\u27bf\u2b00-\u2bff\u3000-\u3037\u303b-\u303f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3"
    "\ufe00-\ufe0f\U0001f300-\U0001faff"
)
_UNSCREENED = re.compile(f"[^{SCREEN_CHARS}]")
# Neighbouring Latin and Cyrillic letters with only other word characters or in-word marks between them: in a word
# written in both scripts (_unmix turns one script's look-alikes into the other's, which per-character folding cannot).
# Latin here is also ə, which folds to e (then the word is in both scripts).
_FOLDS_LATIN = _LATIN_LETTERS + "\u0259"
_HAS_FOLDS_LATIN = re.compile(f"[{_FOLDS_LATIN}]")
_BETWEEN = rf"(?:[^\W_{_FOLDS_LATIN}{_CYRILLIC_LETTERS}]|[{_IN_WORD}])*"
_MIXED = re.compile(
    rf"[{_FOLDS_LATIN}]{_BETWEEN}[{_CYRILLIC_LETTERS}]|[{_CYRILLIC_LETTERS}]{_BETWEEN}[{_FOLDS_LATIN}]"
)
_JOINED = re.compile(rf"['\u2019`](?<=[{_CYRILLIC}].)(?=[{_CYRILLIC}])")  # _JOIN, found from the apostrophe (faster)
_SCREEN_DROP = re.compile(f"[{_IN_WORD}\u0640\u02bb\u02bc]")  # what fold drops inside words (less the joins)
_UNDECOMPOSED = {code: to for code, to in _SPECIAL.items() if not unicodedata.decomposition(chr(code))}
_HAS_UNDECOMPOSED = re.compile(f"[{''.join(map(chr, _UNDECOMPOSED))}]")


def screen_fold(text: str) -> str | None:
    """A whole text folded a character at a time for the screen (monitor.query.screen), without tokenising it
    (fold_characters). Every folded word of the text, as a Document reads it, so folded itself, stands in the
    result after a character that is not alphanumeric (or at the start) and before one (or at the end). None
    when that cannot be promised: a character outside SCREEN_CHARS, a word in both Latin and Cyrillic letters."""
    if text.isascii():
        return text.lower()
    if _UNSCREENED.search(text):
        return None
    if _HAS_CYRILLIC.search(text):
        if _HAS_FOLDS_LATIN.search(text) and _MIXED.search(text):
            return None
        text = _JOINED.sub("", text)
    return fold_characters(text)


def fold_characters(text: str) -> str:
    """Text case-folded, compatibility-decomposed, without what fold drops inside words (so without the
    diacritics decomposition splits off: ``й`` ~ ``и`` too, looser than fold), the letters fold replaces
    replaced: a character at a time."""
    folded = _SCREEN_DROP.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return folded.translate(_UNDECOMPOSED) if _HAS_UNDECOMPOSED.search(folded) else folded


def words(text: str) -> list[str]:
    """The folded words of a piece of text (as a query reads a bare word)."""
    out: list[str] = []
    for found in TOKEN_RE.finditer(text):
        out.extend(m.group() for m in TOKEN_RE.finditer(fold(found.group())))
    return out


@lru_cache(maxsize=400_000)
def stem(lang: str, word: str) -> str:
    """Snowball stem of a folded word in a language (the word itself when there is no stemmer)."""
    algorithm = STEMMERS.get(lang)
    if algorithm is None:
        return word
    return str(_stemmer(algorithm).stemWord(word))


@cache
def _stemmer(algorithm: str) -> Any:
    return Stemmer.Stemmer(algorithm)


def stem_lang(language: str | None, script: str) -> str | None:
    """Which stemmer applies to a word of ``script`` in a document of ``language``."""
    if language:
        base = language.lower().split("-")[0].split("_")[0]
        if base == "az":
            base = "tr"
        if _LANG_SCRIPT.get(base) == script:
            return base
    return SCRIPT_DEFAULT_LANG.get(script)


def sentence_ends(text: str) -> list[int]:
    """Character offsets just after each sentence end, for the matcher and for the diff filter alike.

    A sentence ends at a run of marks (``.`` ``!`` ``?`` ``…``, the Armenian, Arabic, Urdu and CJK stops,
    or a colon after an Armenian letter: web Armenian writes its full stop so), with any closing quotes
    and brackets after it, followed by a space or the end of the text, unless the next word starts in
    lowercase or a lone dot closes an abbreviation (an initial, "Gen.", "No. 5"); and at a blank line.
    Found with str.find, which is much faster here than a regular expression over every character.
    """
    ends = set()
    marks = [text.find(mark) for mark in SENTENCE_MARKS]
    for mark, at in zip(SENTENCE_MARKS, marks, strict=True):
        while at != -1:
            stop = at + 1
            if not (at and text[at - 1] in SENTENCE_MARKS):  # a run of marks is judged from its first
                while stop < len(text) and text[stop] in SENTENCE_MARKS:
                    stop += 1
                end = _boundary(text, at, stop)
                if end is not None:
                    ends.add(end)
            at = text.find(mark, stop)
    if ":" in text:
        ends.update(e for found in _ARMENIAN_COLON.finditer(text) if (e := _boundary(text, *found.span())) is not None)
    if "\n" in text:
        ends.update(found.end() for found in _BLANK_LINE.finditer(text))
    return sorted(ends)


def _boundary(text: str, at: int, run: int) -> int | None:
    """Where the sentence whose marks stand at ``at``..``run`` ends (after them and any closing quotes), or
    None when it does not end there."""
    size = len(text)
    end = run
    while end < size and text[end] in _CLOSERS:
        end += 1
    if end < size and not text[end].isspace():
        return None
    following = end
    while following < size and text[following].isspace():
        following += 1
    if following < size and text[following].islower():
        return None
    if text[at] != "." or run - at > 1 or end > run:  # another mark, several, or a dot inside closing quotes
        return end
    return None if _is_abbreviation(text, at, text[following : following + 1]) else end


def has_end_mark(sentence: str) -> bool:
    """Whether a (stripped) sentence ends with a sentence mark (closing quotes after it allowed), an Armenian
    colon included."""
    last = len(sentence.rstrip(_CLOSERS)) - 1
    return last >= 0 and (sentence[last] in SENTENCE_MARKS or _ARMENIAN_COLON.match(sentence, last) is not None)


def _is_abbreviation(text: str, dot: int, following: str) -> bool:
    """Whether the word before a lone dot is an initial (U.S., J. Smith, p.m.) or an abbreviation ("Gen.";
    "No." only before a number)."""
    start = dot
    while start > max(0, dot - _GAP) and not _is_word_char(text[start - 1]):
        start -= 1
    word_end = start
    while start > 0 and _is_word_char(text[start - 1]):
        start -= 1
    token = text[start:word_end].casefold()
    if not token:
        return False
    if len(token) == 1 and token.isalpha():
        return True
    return token in _ABBREVIATIONS or (following.isdigit() and token in _NUMBER_ABBREVIATIONS)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
