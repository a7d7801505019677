# ruff: noqa: RUF001, RUF002 - the affixes are deliberately multi-script
"""Affixes the stemmers do not see through, from each language's grammar (folded forms throughout).

- **Arabic** writes the conjunctions و ف, the prepositions ب ل ك and the article ال onto the word
  (وبالهدنة, فالهدنة; ل + ال is written لل: للهدنة), and a pronoun after it, the feminine ة then
  written ت (هدنتها); ة is often typed ه, the feminine plural is ات, the dual تين/تان. A word's
  *readings* are what it is with those taken off; a query word matches the words it is a reading of.
- **German** writes compounds as one word: a query word of ``MIN_COMPOUND_TAIL`` letters or more
  also matches a longer word ending in it (or in an inflection of it) after a head of
  ``MIN_COMPOUND_HEAD`` letters that is not a verb particle (Osterwaffenruhe, Teilwaffenruhen).
- **Turkish and Azerbaijani** chain suffixes: plural, possessive, case, ``ki``, copula (ateşkesin,
  ateşkesinden, atəşkəsə), harmony folded away, a final k/q/t/p softening before a vowel: in a
  Turkish or Azerbaijani document, and for a query word written with their letters (ş ğ ı ə) in a
  document of any language (the language of a short text is often unknown).
- **Armenian** adds plural, case and article endings (հրադադարի, հրադադարները, զինադադարով), and
  the -ություն and -ում nouns take an oblique stem (անվտանգության, դադարեցման).

The rules apply to bare query words (a quoted word sees through Arabic proclitics and the article
only; a prefix* is as written). Every rule needs a whole affix at a word edge: a query word never
matches inside another word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.query.document import Document, Memo
from monitor.query.text import ARMENIAN, LATIN, SCRIPT_LANGS, script_of, stem

MIN_STEM_WORD = 4  # shorter query words match exactly only (no inflections)
TAIL = "~"  # marks a compound tail in a prefilter start: "~waffenr" = a word with that tail (never a letter)

# -- Arabic ---------------------------------------------------------------------------------------
ARTICLE = "ال"
PROCLITICS = ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك")
PRONOUNS = ("هما", "هم", "هن", "ها", "ه", "نا")  # attached possessive pronouns (3rd person, "our")
MIN_ARABIC_CORE = 3  # letters left once the affixes are off (most roots have three)


@lru_cache(maxsize=100_000)
def arabic_readings(word: str, endings: bool = True) -> frozenset[str]:
    """The words a folded Arabic word can be with its proclitics and article taken off and, when
    ``endings``, its pronoun, plural and dual endings too (the word itself included)."""
    bases = {word, *_without_article(word)}
    for clitic in PROCLITICS[1:]:
        if not word.startswith(clitic):
            continue
        rest = word[len(clitic) :]
        if clitic[-1] == "ل" and rest.startswith("ل") and len(rest) > MIN_ARABIC_CORE:
            bases.update((ARTICLE + rest[1:], rest[1:]))  # ل + ال is written لل
        if len(rest) >= MIN_ARABIC_CORE:
            bases.update((rest, *_without_article(rest)))
    if endings:
        bases.update(ending for base in list(bases) for ending in _arabic_endings(base))
    return frozenset(bases)


def _without_article(word: str) -> tuple[str, ...]:
    """The word without its article, if it has one."""
    return (word[len(ARTICLE) :],) if word.startswith(ARTICLE) and len(word) >= len(ARTICLE) + MIN_ARABIC_CORE else ()


def _arabic_endings(base: str) -> list[str]:
    """The word without an attached pronoun, or its singular in ة (a plural, dual, or ة typed ه)."""
    out = []
    for pronoun in PRONOUNS:
        stem = base[: -len(pronoun)]
        if base.endswith(pronoun) and len(stem) >= MIN_ARABIC_CORE:
            out.append(stem)
            if stem.endswith("ت"):
                out.append(stem[:-1] + "ة")
            break
    if base.endswith("ه") and len(base) > MIN_ARABIC_CORE:
        out.append(base[:-1] + "ة")
    if base.endswith("ات") and len(base) > MIN_ARABIC_CORE:
        out.append(base[:-2] + "ة")
    if base.endswith(("تين", "تان")) and len(base) > 2 + MIN_ARABIC_CORE:
        out.append(base[:-3] + "ة")
    return out


@lru_cache(maxsize=10_000)
def arabic_starts(term: str) -> frozenset[str]:
    """Starts one of which every word that has ``term`` among its readings begins with."""
    shared = term[:-1] if term.endswith(("ة", "ه")) else term  # an ending reading changes the last letter
    cores = {shared, shared.removeprefix(ARTICLE)}
    return frozenset(c + a + core for c in PROCLITICS for a in ("", ARTICLE, "ل") for core in cores)


# -- suffix chains: Turkish, Azerbaijani, Armenian ----------------------------------------------
_PLURAL, _KI = "l[ae]r", "k[iu]"
_POSSESSIVE = "(?:[iu]?m[iu]z|[iu]?n[iu]z|[iu]?m|[iu]?n|s?[iu]|l[ae]r[iu])"
_CASE = "(?:n?[iu]n|[yn]?[iu]|[yn]?[ae]|n?[dt][ae]n?|y?l[ae]|n?c[ae])"
_COPULA = "(?:[dt][iu]r|y?[dt][iu]|y?m[iu]s|y?s[ae])"
TURKIC = re.compile(rf"(?:{_PLURAL})?{_POSSESSIVE}?{_CASE}?(?:{_KI}(?:{_PLURAL})?{_CASE}?)?{_COPULA}?")
TURKIC_SOFTENING = {"k": "gy", "q": "g", "t": "d", "p": "b"}  # a final consonant before a vowel
SOFTENED_TURKIC = re.compile(f"(?=[aeiou]){TURKIC.pattern}")
ARMENIAN_CHAIN = re.compile("(?:ային)?(?:ն?եր)?(?:ի|ից|ով|ում)?[ընսդ]?")
ARMENIAN_OBLIQUE = {"ություն": "ությ", "ում": "մ"}  # ending -> stem before the oblique ան/ամբ
ARMENIAN_OBLIQUE_CHAIN = re.compile("(?:ան|ամբ)[ընսդ]?")
SUFFIX_CHAINS = {"tr": TURKIC, "hy": ARMENIAN_CHAIN}  # stemmer language (az stems as tr) -> suffix chain
MIN_SUFFIXED = {"tr": 5, "hy": 4}  # shortest query word a suffix chain applies to
TURKIC_LETTERS = frozenset("şğıəŞĞİƏ")  # letters only Turkish and Azerbaijani write


def turkic_written(raw: str) -> bool:
    """Whether a query word is written with letters only Turkish and Azerbaijani use."""
    return not TURKIC_LETTERS.isdisjoint(raw)


def suffixed(lang: str, term: str, word: str) -> bool:
    """Whether ``word`` is ``term`` with a suffix chain of ``lang`` written on it."""
    return any(
        len(word) > len(stem) and word.startswith(stem) and chain.fullmatch(word, len(stem)) is not None
        for stem, chain in _suffix_stems(lang, term)
    )


@lru_cache(maxsize=20_000)
def _suffix_stems(lang: str, term: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The stems a suffix chain of ``lang`` is written on for ``term``, each with the chain it takes."""
    chain = SUFFIX_CHAINS.get(lang)
    if chain is None or len(term) < MIN_SUFFIXED[lang]:
        return ()
    if chain is ARMENIAN_CHAIN:
        oblique = [term[: -len(end)] + stem for end, stem in ARMENIAN_OBLIQUE.items() if term.endswith(end)]
        return ((term, chain), *((stem, ARMENIAN_OBLIQUE_CHAIN) for stem in oblique))
    softened = [(term[:-1] + letter, SOFTENED_TURKIC) for letter in TURKIC_SOFTENING.get(term[-1], "")]
    return ((term, chain), *softened)


@lru_cache(maxsize=20_000)
def suffix_start(term: str) -> str:
    """The start every suffixed form of ``term`` (in any language of its script) begins with."""
    lang = {LATIN: "tr", ARMENIAN: "hy"}.get(script_of(term))
    stems = [stem for stem, _ in _suffix_stems(lang, term)] if lang else []
    return min([term, *(common_start(term, stem) for stem in stems)], key=len)


def common_start(a: str, b: str) -> str:
    """The longest common prefix of two words."""
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


# -- German compounds -----------------------------------------------------------------------------
MIN_COMPOUND_TAIL = 6  # letters of a query word that may be a compound's last part
MIN_COMPOUND_HEAD = 4  # letters before it
# Verb particles and prefixes of four letters or more: with one of them in front a word is a
# derivation (Unterbrechung, Wiederaufnahme), not a compound of the rest.
PARTICLES = frozenset(
    [
        "miss",
        "nach",
        "uber",
        "unter",
        "wider",
        "wieder",
        "durch",
        "hinter",
        "gegen",
        "zuruck",
        "voran",
        "voraus",
        "vorbei",
        "heran",
        "heraus",
        "herein",
        "herum",
        "hinaus",
        "hinein",
        "hinweg",
        "empor",
        "entgegen",
        "fort",
        "weiter",
        "zusammen",
    ]
)
TAIL_KEY = 3  # letters of a compound tail's start that the prefilter keys it by (tail starts have as many)
_LONG_WORDS: Memo[None, list[str]] = Memo("long Latin words")
_TAIL_KEYS: Memo[None, set[str]] = Memo("compound tail keys")


def compound_heads(word: str, start: str) -> list[int]:
    """Where a compound tail starting with ``start`` may begin in ``word`` (after a head that is not a
    verb particle)."""
    out = []
    at = word.find(start, MIN_COMPOUND_HEAD)
    while at != -1:
        if word[:at] not in PARTICLES:
            out.append(at)
        at = word.find(start, at + 1)
    return out


def long_words(doc: Document) -> list[str]:
    """The document's distinct Latin words long enough to be a compound with a tail (in any language:
    the prefilter reads them without working out the document's language)."""
    memo = doc.memo(_LONG_WORDS)
    cached = memo.get(None)
    if cached is None:
        shortest = MIN_COMPOUND_HEAD + MIN_COMPOUND_TAIL
        cached = memo[None] = [w for w in doc.words() if len(w) >= shortest and script_of(w) == LATIN]
    return cached


def words_with_tail(doc: Document, start: str) -> list[str]:
    """The long words of a document in which a compound tail starting with ``start`` may begin."""
    return [word for word in long_words(doc) if compound_heads(word, start)]


def has_tail(doc: Document, start: str) -> bool:
    """Whether a long word of the document holds ``start`` after a compound head's letters."""
    return any(word.find(start, MIN_COMPOUND_HEAD) != -1 for word in long_words(doc))


def tail_keys(doc: Document) -> set[str]:
    """Prefilter keys of the document's compound tails: ``TAIL`` and the tail's first ``TAIL_KEY`` letters."""
    memo = doc.memo(_TAIL_KEYS)
    cached = memo.get(None)
    if cached is None:
        cached = memo[None] = {
            TAIL + word[at : at + TAIL_KEY]
            for word in long_words(doc)
            for at in range(MIN_COMPOUND_HEAD, len(word) - MIN_COMPOUND_TAIL + 1)
        }
    return cached


def compounds_apply(doc: Document) -> bool:
    """Whether the document is German, where a query word also matches the compounds ending in it."""
    return doc.stem_lang(LATIN) == "de"


def is_arabic(word: str) -> bool:
    """Whether a word is written in Arabic letters (as script_of says, without its call: this runs per word)."""
    first = word[:1]
    return "\u0600" <= first <= "\u06ff" or "\u0750" <= first <= "\u077f"


# -- the starts of the words a query word matches (for the evaluator, the prefilter, the lexicons) --------
@lru_cache(maxsize=100_000)
def stem_and_start(lang: str, word: str) -> tuple[str, str]:
    """A word's stem in a language, and the start it shares with that stem."""
    base = stem(lang, word)
    return base, common_start(base, word)


def stem_start(word: str) -> str:
    """The part of ``word`` that every word a Term ``word`` matches starts with, German compounds
    aside ("" for an Arabic word: proclitics come first)."""
    if is_arabic(word):
        return ""
    if len(word) < MIN_STEM_WORD:
        return word
    starts = [stem_and_start(lang, word)[1] for lang in SCRIPT_LANGS.get(script_of(word), ())]
    return min([word, suffix_start(word), *starts], key=len)


def only_itself(term: str, exact: bool) -> bool:
    """Whether a query word matches only itself: quoted, or too short to inflect (not Arabic, whose
    proclitics are seen through even then)."""
    return not is_arabic(term) and (exact or len(term) < MIN_STEM_WORD)


def word_starts(term: str) -> frozenset[str]:
    """Starts one of which every word a Term ``term`` matches begins with (for the prefilter); a
    German compound's tail is the start marked with TAIL."""
    if is_arabic(term):
        return arabic_starts(term)
    start = stem_start(term)
    if len(term) >= MIN_COMPOUND_TAIL and script_of(term) == LATIN:
        return frozenset((start, TAIL + tail_start(term)))
    return frozenset((start,))


def tail_start(term: str) -> str:
    """The start of every compound tail that is ``term`` or an inflection of it."""
    start = stem_and_start("de", term)[1]
    return start if len(start) >= MIN_STEM_WORD - 1 else term
