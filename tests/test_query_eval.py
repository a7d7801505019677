"""score_labelled() counts, and the default ceasefire watch list: its examples and its figures on the dev set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.query import Matcher
from monitor.query.labelled import score_labelled
from monitor.records import WatchList

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "ceasefire-dev.jsonl"
DEV2_SET = DEV_SET.with_name("ceasefire-dev2.jsonl")
DEFAULT_LIST = ROOT / "config" / "watchlists" / "ceasefire.yaml"


def load_watchlist(path: Path) -> tuple[WatchList, dict[str, list[Any]]]:
    """The watch-list YAML contract: name, description, threshold, queries, exclude, examples."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    watchlist = WatchList(
        name=raw["name"],
        queries=tuple(raw["queries"]),
        exclude=tuple(raw.get("exclude") or ()),
        description=raw.get("description", ""),
        threshold=float(raw["threshold"]),
    )
    return watchlist, raw.get("examples") or {}


CEASEFIRE, EXAMPLES = load_watchlist(DEFAULT_LIST)
MATCHER = Matcher([CEASEFIRE])


def as_item(example: str | dict[str, str]) -> tuple[str, str]:
    return ("", example) if isinstance(example, str) else (example["title"], example["body"])


@pytest.mark.parametrize("example", EXAMPLES["match"], ids=str)
def test_default_list_matches_its_examples(example: str | dict[str, str]) -> None:
    title, body = as_item(example)
    assert [m.watchlist for m in MATCHER.match(title, body)] == ["ceasefire"]


@pytest.mark.parametrize("example", EXAMPLES["no_match"], ids=str)
def test_default_list_ignores_its_counter_examples(example: str | dict[str, str]) -> None:
    title, body = as_item(example)
    assert MATCHER.match(title, body) == []


def test_evaluate_counts_exactly(tmp_path: Path) -> None:
    items = [
        {"id": "a", "lang": "en", "title": "Army truce collapses", "text": "", "label": 1, "kind": "central"},
        {"id": "b", "lang": "ru", "title": "Перемирие нарушено", "text": "", "label": 1, "kind": "central"},
        {"id": "c", "lang": "en", "title": "Talks go on", "text": "No news today.", "label": 1, "kind": "substantive"},
        {"id": "d", "lang": "en", "title": "Trade truce extended", "text": "", "label": 0, "kind": "false-friend"},
        {"id": "e", "lang": "en", "title": "Ceasefire in name only", "text": "", "label": 0, "kind": "incidental"},
        {"id": "f", "lang": "ru", "title": "Пожар в Рязани", "text": "", "label": 0, "kind": "false-friend"},
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    loaded = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    report = score_labelled(loaded, MATCHER, "ceasefire")
    assert (report.tp, report.fp, report.fn, report.tn, report.n) == (2, 1, 1, 2, 6)
    assert report.precision == pytest.approx(2 / 3)
    assert report.recall == pytest.approx(2 / 3)
    assert (report.by_lang["ru"].tp, report.by_lang["ru"].tn) == (1, 1)
    assert report.by_kind["incidental"].fp == 1
    assert sorted((e.id, e.label) for e in report.errors) == [("c", 1), ("e", 0)]
    [false_positive] = [e for e in report.errors if e.id == "e"]
    assert false_positive.terms == ("Ceasefire",)
    assert report.as_dict()["by_lang"]["en"]["fn"] == 1
    with pytest.raises(ValueError, match="no watch list"):
        score_labelled(loaded, MATCHER, "nonexistent")


@pytest.mark.skipif(not (DEV_SET.exists() and DEV2_SET.exists()), reason="shared dev corpora not present")
@pytest.mark.parametrize("path", [DEV_SET, DEV2_SET], ids=lambda p: p.name)
def test_default_list_on_the_dev_sets(path: Path) -> None:
    """The shipped list and model on the sets the model was fitted on (monitor train reports the
    cross-validated figures; this guards the shipped files against a regression)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = score_labelled(items, MATCHER, "ceasefire")
    assert report.n == len(items)
    assert report.precision >= 0.85
    assert report.recall >= 0.85
