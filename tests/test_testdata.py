"""The copies that a plain clone tests on are what tests/data/README.md says they are: the shared files, unchanged."""

from __future__ import annotations

import json

import pytest

from tests.testdata import (
    EXTRACTION,
    EXTRACTION_CORPUS,
    FEED_CORPUS,
    FEEDS,
    SEED,
    SEED_BODY,
    SEED_FIXTURES,
    needs,
    over,
)

COPIED_FEEDS = sorted(p.relative_to(FEEDS).as_posix() for p in FEEDS.rglob("*") if p.is_file())
SEED_FILES = ["feed.xml", "article.html", "decoy.html", "border-v1.html", "border-v2.html"]


def test_the_copies_are_there() -> None:
    assert len(COPIED_FEEDS) >= 10 and SEED_BODY.is_file()
    assert all((SEED / name).is_file() for name in SEED_FILES)
    assert (EXTRACTION / "LICENSE").is_file()


@pytest.mark.parametrize("name", over(COPIED_FEEDS, FEED_CORPUS))
def test_copied_feed_is_the_corpus_file(name: str) -> None:
    assert (FEEDS / name).read_bytes() == (FEED_CORPUS / name).read_bytes()


@pytest.mark.parametrize("name", over(SEED_FILES, SEED_FIXTURES))
def test_seed_page_is_the_shared_fixture(name: str) -> None:
    assert (SEED / name).read_bytes() == (SEED_FIXTURES / name).read_bytes()


@needs(SEED_FIXTURES)
def test_seed_body_is_the_shared_fixture() -> None:
    assert SEED_BODY.read_bytes() == (SEED_FIXTURES / "article-body.txt").read_bytes()


@needs(EXTRACTION_CORPUS)
def test_extraction_page_and_truth_are_the_corpus_ones() -> None:
    truth = json.loads((EXTRACTION / "ground-truth.json").read_text(encoding="utf-8"))
    corpus = json.loads((EXTRACTION_CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    assert truth and all(corpus[key] == value for key, value in truth.items())
    for key in truth:
        page = f"html/{key}.html.gz"
        assert (EXTRACTION / page).read_bytes() == (EXTRACTION_CORPUS / page).read_bytes()
    assert (EXTRACTION / "LICENSE").read_bytes() == (EXTRACTION_CORPUS / "LICENSE").read_bytes()

