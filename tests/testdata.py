"""Where the tests' files are: the few copies in the repository, and the corpora in ../shared; and the configs
the tests write.

A plain clone has the copies (tests/data/, see its README, and the seed pages in monitor/demo/data/),
so every test that reads one file or a few runs there. The tests that go over a whole corpus read it
from ../shared beside the repository and are skipped, with the reason, when it is not there (CI has it).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from monitor.demo import StaticSite

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


def write_config(
    workdir: Path, sources: list[dict[str, object]], notifiers: list[dict[str, object]] | None = None,
    **sections: object,
) -> Path:
    """`workdir`/monitor.yaml polling `sources`, with the shipped watch list, its database in `workdir` and
    `notifiers` (default: a console one); `sections` are further top-level keys."""
    (workdir / "watchlists").mkdir(exist_ok=True)
    shutil.copyfile(REPO / "config" / "watchlists" / "ceasefire.yaml", workdir / "watchlists" / "ceasefire.yaml")
    config = {"storage": {"path": "db.sqlite3"}, "notifiers": notifiers or [{"name": "console", "kind": "console"}],
              "sources": sources, **sections}
    path = workdir / "monitor.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def seed_source(site: StaticSite, name: str = "panarmenian") -> dict[str, object]:
    """The source of the seed site's feed, its article pages fetched."""
    return {"name": name, "url": f"{site.base}/eng/rss/", "fetch_article": True, "allow_private": True}
