"""`monitor eval --jobs`: worker processes give the same figures and the same errors, in input order, as one process."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from monitor import evaluation
from monitor.cli import main

from .test_config import write
from .test_eval_cli import PAGE, WATCHLIST

RUSSIAN = "name: ru\nthreshold: 0\nqueries: ['перемирие']\n"
# (title, text, label): for watch list w a tp, an fp, an fn (Russian) and a tn (the excluded trade truce).
TEMPLATES = [
    ("Truce holds in the south", "", 1),
    ("A truce in the village", "Fighters agreed a truce.", 0),
    ("Перемирие нарушено", "", 1),
    ("Markets rally", "A trade truce lifted stocks.", 0),
]
ITEMS = evaluation.PARALLEL_MIN_LINES + 100  # enough to go parallel
PAGES = 3  # html items (through the extractor in the workers): tn for both lists, the truce is in a sidebar


def labelled(tmp: Path) -> Path:
    lines = []
    for i in range(ITEMS):
        title, text, label = TEMPLATES[i % 4]
        lines.append(json.dumps({"id": f"i{i}", "title": title, "text": text, "label": label}, ensure_ascii=False))
    lines += [json.dumps({"id": f"p{k}", "title": "", "html": PAGE, "label": 0}) for k in range(PAGES)]
    path = tmp / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["eval", *args, "--json", "--errors"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_parallel_eval_equals_serial_eval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    (tmp_path / "watchlists" / "ru.yaml").write_text(RUSSIAN, encoding="utf-8")
    pools: list[int] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, jobs: int, **kwargs: Any) -> None:
            pools.append(jobs)
            super().__init__(jobs, **kwargs)

    monkeypatch.setattr(evaluation, "ProcessPoolExecutor", CountedPool)
    args = [str(labelled(tmp_path)), "--config", str(config)]
    serial = run([*args, "--jobs", "1"], capsys)
    assert pools == []
    parallel = run([*args, "--jobs", "2"], capsys)
    assert pools == [2]
    assert parallel == serial

    quarter = ITEMS // 4
    w, ru = parallel["w"], parallel["ru"]
    assert (w["tp"], w["fp"], w["fn"], w["tn"], w["n"]) == (quarter, quarter, quarter, quarter + PAGES, ITEMS + PAGES)
    assert (ru["tp"], ru["fp"], ru["fn"], ru["tn"]) == (quarter, 0, quarter, 2 * quarter + PAGES)
    assert [e["id"] for e in w["errors"]] == [f"i{i}" for i in range(ITEMS) if i % 4 in (1, 2)]
    assert [e["id"] for e in ru["errors"]] == [f"i{i}" for i in range(ITEMS) if i % 4 == 0]


def test_small_files_stay_in_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    path = tmp_path / "few.jsonl"
    lines = [json.dumps({"title": title, "text": text, "label": label}) for title, text, label in TEMPLATES]
    path.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(evaluation, "ProcessPoolExecutor", None)  # would fail if called
    report = run([str(path), "--config", str(config), "--jobs", "4"], capsys)
    assert (report["tp"], report["fp"], report["fn"], report["tn"]) == (1, 1, 1, 1)
    assert [e["id"] for e in report["errors"]] == ["line-2", "line-3"]


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["eval", str(tmp_path / "x.jsonl"), "--jobs", "0"])
