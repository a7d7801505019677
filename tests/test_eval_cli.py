"""`monitor eval`: figures, JSON, thresholds, errors listing, html items and malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main

from .test_config import write

WATCHLIST = "name: w\nthreshold: 0\nqueries: ['ceasefire OR truce']\nexclude: ['\"trade truce\"']\n"
ITEMS = [
    {"id": "a", "lang": "en", "title": "Ceasefire holds in the south", "text": "", "label": 1, "kind": "central"},
    {"id": "b", "lang": "en", "title": "Markets rally", "text": "A trade truce lifted stocks.", "label": 0},
    {"id": "c", "lang": "ru", "title": "Перемирие нарушено", "text": "", "label": 1},
    {"id": "d", "lang": "en", "title": "A truce in the village", "text": "Fighters agreed a truce.", "label": 0},
]
PAGE = (
    "<html><body><article><h1>Festival</h1><p>The apricot festival drew thousands of visitors to the city on "
    "Saturday, and the organisers promised a bigger programme next year with more music.</p></article>"
    "<aside><h3>Top stories</h3><a href='/x'>Ceasefire violated again on the border</a></aside></body></html>"
)


def labelled(tmp: Path) -> Path:
    lines = [json.dumps(item, ensure_ascii=False) for item in ITEMS]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"id": "e", "lang": "en", "title": "", "html": PAGE, "label": 0}))
    lines.append(json.dumps({"id": "f", "title": "no label"}))
    path = tmp / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_json_counts_and_by_lang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    assert main(["eval", str(labelled(tmp_path)), "--config", str(config), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    # a: tp; b: tn (excluded trade truce); c: fn (Russian word not in the list); d: fp; e: tn (sidebar only)
    assert (report["tp"], report["fp"], report["fn"], report["tn"], report["n"]) == (1, 1, 1, 2, 5)
    assert report["precision"] == 0.5 and report["recall"] == 0.5
    assert report["by_lang"]["ru"]["fn"] == 1 and report["by_lang"]["en"]["tp"] == 1
    assert "items.jsonl:3: not valid JSON" in captured.err and "items.jsonl:7: needs" in captured.err


def test_eval_thresholds_exit_1_and_errors_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    items = str(labelled(tmp_path))
    assert main(["eval", items, "--config", str(config), "--min-precision", "0.4", "--min-recall", "0.4"]) == 0
    assert main(["eval", items, "--config", str(config), "--min-recall", "0.6", "--errors"]) == 1
    out = capsys.readouterr().out
    assert "c (ru, ?) false negative" in out and "d (en, ?) false positive" in out
    assert main(["eval", items, "--config", str(config), "--watchlist", "nope"]) == 2


def test_eval_names_the_file_and_line_of_bytes_that_are_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    items = tmp_path / "items.jsonl"
    items.write_bytes(json.dumps(ITEMS[0]).encode() + b"\n\n" + "Перемирие".encode("cp1251") + b"\n")
    assert main(["eval", str(items), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {items}:3: not UTF-8 text (byte 0xcf); labelled items are JSON Lines in UTF-8\n"


def test_eval_reads_items_whose_text_holds_line_separators_unescaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON writers leave U+2028, U+2029 and U+0085 unescaped (ensure_ascii=False); they split no JSON line."""
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    items = tmp_path / "items.jsonl"
    odd = [{**item, "text": f"{item['text']}\u2028Second line.\u0085Third.\u2029"} for item in ITEMS]
    items.write_text("".join(json.dumps(i, ensure_ascii=False) + "\r\n" for i in odd), encoding="utf-8")
    assert main(["eval", str(items), "--config", str(config), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == len(ITEMS) and "not valid JSON" not in captured.err


@pytest.mark.parametrize("option", ["--min-precision", "--min-recall"])
@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan"])
def test_eval_thresholds_must_be_from_0_to_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["eval", str(labelled(tmp_path)), option, value])
    assert exit_.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err


def test_eval_says_which_threshold_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    items = str(labelled(tmp_path))
    assert main(["eval", items, "--config", str(config), "--json", "--min-precision", "0.6",
                 "--min-recall", "0.5"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "w: precision 0.500 is below --min-precision 0.6"
    assert main(["eval", items, "--config", str(config), "--min-precision", "0.5", "--min-recall", "0.75"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "w: recall 0.500 is below --min-recall 0.75"
