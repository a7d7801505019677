"""PyStemmer (C) gives the same stems as the pure-Python Snowball stemmers of snowballstemmer."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Protocol

import pytest

from monitor.query.text import ARMENIAN, CYRILLIC, LATIN, STEMMERS, script_of, stem, stem_lang, words

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
DEV_SETS = sorted(CORPORA.glob("ceasefire-dev*.jsonl"))


class _Stemmer(Protocol):
    """What the tests call on a snowballstemmer stemmer (the package has no type information)."""

    def stemWord(self, word: str) -> str: ...


def _pure_python(algorithm: str) -> _Stemmer:
    """snowballstemmer's own Python implementation (its top-level ``stemmer`` hands out PyStemmer when installed)."""
    module = importlib.import_module(f"snowballstemmer.{algorithm}_stemmer")
    stemmer: _Stemmer = getattr(module, f"{algorithm.capitalize()}Stemmer")()
    return stemmer


def _words_by_script() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in DEV_SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            for word in words(f"{item['title']} {item['text']}"):
                found.setdefault(script_of(word), set()).add(word)
    return found


@pytest.mark.skipif(not DEV_SETS, reason="needs ../shared/corpora/ceasefire-dev*.jsonl beside the repository")
def test_same_stems_as_snowballstemmer_on_the_dev_sets() -> None:
    """Every stemmer a document can run, on every folded word of its script in the dev sets."""
    by_script = _words_by_script()
    scripts = {"ru": CYRILLIC, "uk": CYRILLIC, "hy": ARMENIAN}
    for lang in [*STEMMERS, "az"]:
        script = scripts.get(lang, LATIN)
        stemmer_lang = stem_lang(lang, script)
        assert stemmer_lang == ("tr" if lang == "az" else lang)
        reference = _pure_python(STEMMERS[stemmer_lang])
        checked = sorted(by_script[script])
        expected = [reference.stemWord(w) for w in checked]
        assert [stem(stemmer_lang, w) for w in checked] == expected, lang
        assert sum(e != w for e, w in zip(expected, checked, strict=True)) > len(checked) / 10  # it really stems


@pytest.mark.parametrize(
    ("lang", "word", "expected"),
    [
        ("en", "ceasefires", "ceasefir"),  # -s, then the final e in R2
        ("en", "violations", "violat"),  # -ation > -ate, the final e in R2
        ("ru", "перемирия", "перемир"),  # noun ending -ия
        ("ru", "перемирие", "перемир"),  # noun ending -ие
        ("de", "waffenstillstandes", "waffenstillstand"),  # -es in R1
    ],
)
def test_known_snowball_stems(lang: str, word: str, expected: str) -> None:
    assert stem(lang, word) == expected
