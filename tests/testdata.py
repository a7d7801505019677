"""Where the tests' files are: the few copies in the repository, and the corpora in ../shared.

A plain clone has the copies (tests/data/, see its README, and the seed pages in monitor/demo/data/),
so every test that reads one file or a few runs there. The tests that go over a whole corpus read it
from ../shared beside the repository and are skipped, with the reason, when it is not there (CI has it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SEED = REPO / "monitor" / "demo" / "data"  # the seed pages and feed: copies of ../shared/fixtures/seed
SEED_BODY = DATA / "seed" / "article-body.txt"  # the true body of SEED / "article.html"
FEEDS = DATA / "feeds"  # copies of a few files of the feed corpus, under their names there
EXTRACTION = DATA / "article-extraction"  # one page of the extraction corpus, with its truth

SHARED = REPO.parent / "shared"
FEED_CORPUS = SHARED / "corpora" / "feeds"
EXTRACTION_CORPUS = SHARED / "corpora" / "article-extraction"
SEED_FIXTURES = SHARED / "fixtures" / "seed"


def absent(path: Path) -> str:
    """The reason a test that needs `path` from ../shared is skipped."""
    return f"needs ../shared/{path.relative_to(SHARED)} (the shared corpora beside the repository, as CI has them)"


def needs(path: Path) -> pytest.MarkDecorator:
    """Skip the test when `path` (in ../shared) is not there, saying what it needs."""
    return pytest.mark.skipif(not path.exists(), reason=absent(path))


def over(values: Sequence[Any], corpus: Path) -> list[Any]:
    """Parameters of a test that goes over a corpus: one skipped parameter that says why when it is absent.

    (An empty list would give pytest's nameless "got empty parameter set" skip.)
    """
    if corpus.exists():
        return list(values)
    return [pytest.param(None, marks=pytest.mark.skip(reason=absent(corpus)), id="corpus-absent")]
