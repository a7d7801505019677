# ruff: noqa: RUF001 - Russian test text
"""`monitor train`: the model file it writes, its figures, and clear errors on bad labelled files."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from monitor import config as config_mod
from monitor.cli import main
from monitor.errors import ConfigError, InputError
from monitor.query import Matcher
from monitor.query.features import NAMES
from monitor.query.model import RelevanceModel, load_model
from monitor.training import read_rows, save, site_of

from .test_config import write

WATCHLIST = "name: w\nqueries: ['ceasefire OR truce OR перемири*']\n"
PLACES = ["the north", "the border", "the coast", "the capital", "the valley", "the hills"]
STORY = "{place}: the ceasefire was violated again on Monday, officials said. Both sides accused each other."
PASSING = "Oil prices rose on {place} markets. Traders said shares gained since the 2020 ceasefire. Stocks rallied."
RUSSIAN = "Перемирие нарушено в {place}. Стороны обвинили друг друга в нарушении перемирия."
RUSSIAN_PASSING = "Цены на нефть выросли на рынках ({place}). Акции растут с момента перемирия 2020 года."


def items() -> list[dict[str, object]]:
    """Labelled items over 12 sites: violation reports (1), market stories naming a past ceasefire (0),
    and stories without any watched word (0)."""
    out: list[dict[str, object]] = []
    for n in range(36):
        place = PLACES[n % len(PLACES)]
        site = f"https://site{n % 12}.example/news/{n}"
        kinds = [("central", 1, STORY), ("incidental", 0, PASSING), ("central", 1, RUSSIAN),
                 ("incidental", 0, RUSSIAN_PASSING)]
        kind, label, text = kinds[n % 4]
        lang = "ru" if text in (RUSSIAN, RUSSIAN_PASSING) else "en"
        out.append({"id": f"t{n}", "lang": lang, "title": "", "text": text.format(place=place), "label": label,
                    "kind": kind, "source": site})
    out += [{"id": f"o{n}", "lang": "en", "title": "Weather", "text": "Rain tomorrow.", "label": 0, "kind": "other",
             "source": f"https://site{n}.example/w"} for n in range(6)]
    return out


def labelled(tmp: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp / "labelled.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_writes_a_model_that_reproduces_the_fitted_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data, out = labelled(tmp_path, items()), tmp_path / "model.json"
    assert main(["train", str(data), "--config", str(config), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["grouped by site"]["n"] == 42 and report["queries alone (any candidate)"]["recall"] == 1.0
    model = load_model(out)
    assert model.features == NAMES and model.info["items"] == 42 and model.info["candidates"] == 36

    # the same fit done here with scikit-learn directly: the file's probabilities are its probabilities
    rows = [r for r in read_rows([data], config_mod.load(config).watchlist_records()[0]) if r.values is not None]
    matrix = [[r.values[n] for n in NAMES] for r in rows if r.values is not None]
    scaler = StandardScaler().fit(matrix)
    regression = LogisticRegression(C=0.3, max_iter=1000).fit(scaler.transform(matrix), [r.label for r in rows])
    expected = regression.predict_proba(scaler.transform(matrix))[:, 1]
    got = [model.probability(r.values) for r in rows if r.values is not None]
    assert got == pytest.approx(list(expected), abs=1e-6)

    # and the matcher, pointed at the file by the watch list, scores the items with it
    (tmp_path / "watchlists" / "w.yaml").write_text(WATCHLIST + "model: ../model.json\n", encoding="utf-8")
    [watchlist] = config_mod.load(config).watchlist_records()
    matcher = Matcher([watchlist])
    story, passing = items()[0], items()[1]
    [match] = matcher.match("", str(story["text"]), "en")
    assert match.score == pytest.approx(got[0], abs=1e-3)
    assert matcher.match("", str(passing["text"]), "en") == []  # a past ceasefire in a market story


def test_train_prints_cross_validated_tables_by_language_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data = labelled(tmp_path, items())
    assert main(["train", str(data), "--config", str(config), "--out", str(tmp_path / "m.json"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    for heading in ("grouped by site", "leave one language out", "by language", "by kind", "by file", "weights"):
        assert heading in out
    assert "over 5 shuffles of the folds: precision" in out
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("repeats", [1, 3])
def test_train_reports_the_range_of_its_figures_over_shuffles_of_the_folds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repeats: int
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    # half the violation reports name no day or accusation, so the folds' figures differ by how sites fall
    rows = [dict(r, text="The ceasefire is the news here.") if n % 8 == 0 else r for n, r in enumerate(items())]
    data, out = labelled(tmp_path, rows), tmp_path / "m.json"
    assert main(["train", str(data), "--config", str(config), "--out", str(out), "--json",
                 "--repeats", str(repeats)]) == 0
    report = json.loads(capsys.readouterr().out)
    shuffles = report["shuffles"]
    assert shuffles["shuffles"] == repeats and load_model(out).info["cross_validated_shuffles"] == shuffles
    for figure in ("precision", "recall", "f1"):
        low, mean, high = shuffles[figure]
        assert low <= mean <= high
        assert low <= round(report["grouped by site"][figure], 4) <= high  # the first shuffle is the one reported
        if repeats == 1:
            assert low == high == round(report["grouped by site"][figure], 4)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "x", "title": "Ceasefire holds", "text": ""}], "needs title, label"),
        ([{"id": f"x{n}", "title": "Ceasefire holds", "text": "", "label": 1, "source": f"https://s{n}.example/"}
          for n in range(6)], "only label 1"),
        ([{"id": "x", "title": "Nothing here", "text": "", "label": 0}], "no candidates"),
        ([{"id": f"x{n}", "title": "Ceasefire holds" if n % 2 else "Ceasefire since 1994", "text": "", "label": n % 2}
          for n in range(6)], "one site (labelled.jsonl): cross-validation grouped by site needs two or more (an "
                              "item's site is the host of its `source` URL"),
    ],
    ids=["missing label", "one class", "no candidates", "one site"],
)
def test_train_rejects_a_file_it_cannot_fit_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[dict[str, object]], message: str
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data = labelled(tmp_path, rows)
    assert main(["train", str(data), "--config", str(config), "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "m.json").exists()


def test_a_watch_list_naming_a_missing_or_broken_model_is_a_config_error(tmp_path: Path) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST + "model: nosuch.json\n")
    with pytest.raises(ConfigError, match=r"nosuch\.json: cannot read the relevance model"):
        config_mod.load(config)
    (tmp_path / "watchlists" / "bad.json").write_text('{"format": 1, "features": ["colour"], "mean": [0],'
                                                      ' "scale": [1], "weights": [1], "intercept": 0}')
    write(tmp_path, "sources: []\n", WATCHLIST + "model: bad.json\n")
    with pytest.raises(ConfigError, match=r"unknown feature.*colour"):
        config_mod.load(config)
    write(tmp_path, "sources: []\n", WATCHLIST + "threshold: 1.75\n")
    with pytest.raises(ConfigError, match="threshold"):
        config_mod.load(config)


@pytest.mark.parametrize(
    ("source", "site"),
    [
        ("https://www.reuters.com/world/x", "reuters.com"),
        ("real/feed.xml#https://news.am/eng/news/1.html", "news.am"),
        ("real/feed.xml#/relative/link", "real/feed.xml"),
        ("www.News.am", "news.am"),
        ("a.com", "a.com"),
        ("real/feed.xml", "labelled.jsonl"),
        ("", "labelled.jsonl"),
    ],
)
def test_folds_group_items_by_the_site_they_came_from(source: str, site: str) -> None:
    assert site_of({"source": source}, Path("labelled.jsonl")) == site


def test_train_shows_its_progress_in_a_terminal_only(tmp_path: Path) -> None:
    """A long labelled file shows a progress bar on stderr when that is a terminal (a pseudo-terminal here), and
    nothing when it is not (a pipe, as in CI logs)."""
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data = labelled(tmp_path, [dict(r, id=f"{r['id']}-{k}") for k in range(15) for r in items()])  # 630 items
    command = [sys.executable, "-m", "monitor", "train", str(data), "--config", str(config), "--dry-run",
               "--out", str(tmp_path / "m.json"), "--repeats", "1"]
    environment = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=environment) as proc:
        os.close(follower)
        seen = b""
        with contextlib.suppress(OSError):  # EIO once the process has closed its side
            while chunk := os.read(leader, 4096):
                seen += chunk
        proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0 and b"matching" in seen and b"630" in seen
    piped = subprocess.run(command, capture_output=True, env=environment, timeout=120, check=True)
    assert b"matching" not in piped.stderr


def test_a_model_from_another_version_is_a_clear_error_and_train_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A watch list's model fitted on features this version has not (an older monitor's) stops check-config with
    a line that says what to do, and `monitor train` still runs and writes the new model where the list reads it."""
    config = write(tmp_path, "sources: []\n", WATCHLIST + "model: ../model.json\n")
    old = tmp_path / "model.json"
    old.write_text(json.dumps({"format": 1, "features": ["title", "retired_feature"], "mean": [0, 0],
                               "scale": [1, 1], "weights": [1, 1], "intercept": 0, "info": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown feature\(s\) retired_feature .*fit it again with `monitor train`"):
        config_mod.load(config)
    data = labelled(tmp_path, items())
    assert main(["train", str(data), "--config", str(config), "--out", str(old)]) == 0
    assert load_model(old).features == NAMES
    [watchlist] = config_mod.load(config).watchlist_records()  # the list loads again, with the new model
    assert watchlist.model == str(old.resolve())


def test_train_names_the_file_and_line_of_bytes_that_are_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data = labelled(tmp_path, items())
    data.write_bytes(data.read_bytes() + "Перемирие".encode("utf-16"))
    assert main(["train", str(data), "--config", str(config), "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {data}:43: not UTF-8 text") and err.count("\n") == 1
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("out", ["folder", "/proc/m.json"])
def test_train_refuses_an_output_it_cannot_write_before_it_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    target = tmp_path / out
    if out == "folder":
        target.mkdir()
    assert main(["train", str(labelled(tmp_path, items())), "--config", str(config), "--out", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no figures: it stopped before the fits
    assert captured.err.startswith("error: ") and str(target) in captured.err and captured.err.count("\n") == 1


def test_a_model_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    model = RelevanceModel(NAMES, (0.0,) * len(NAMES), (1.0,) * len(NAMES), (0.5,) * len(NAMES), -1.0)
    out = tmp_path / "m.json"
    out.write_text("the model it replaces", encoding="utf-8")
    save(model, out)
    assert load_model(out).weights == model.weights
    taken = tmp_path / "taken"
    (taken / "inside").mkdir(parents=True)  # a folder that appeared where the model goes, after the check
    with pytest.raises(InputError, match=f"cannot write the model to {taken}"):
        save(model, taken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "taken"]  # no temporary file left


@pytest.mark.parametrize(("strength", "message"), [("0", "must be above 0"), ("-1", "must be above 0"),
                                                   ("nan", "must be a finite number"), ("x", "must be a number")])
def test_train_refuses_a_strength_that_is_not_a_number_above_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], strength: str, message: str
) -> None:
    data = labelled(tmp_path, items())
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(data), "--out", str(tmp_path / "m.json"), "--strength", strength])
    assert exit_.value.code == 2
    assert f"argument --strength: {message}" in capsys.readouterr().err


def test_train_takes_a_bare_host_name_as_the_source_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    rows = [dict(r, source=str(r["source"]).split("/")[2]) for r in items()]  # site3.example, not a URL
    data = labelled(tmp_path, rows)
    assert main(["train", str(data), "--config", str(config), "--out", str(tmp_path / "m.json"), "--dry-run"]) == 0
    assert "12 sites" in capsys.readouterr().out


def test_train_on_one_language_says_it_cannot_leave_one_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "sources: []\n", WATCHLIST)
    data, out = labelled(tmp_path, [r for r in items() if r["lang"] == "en"]), tmp_path / "m.json"
    assert main(["train", str(data), "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "leave one language out: - (cannot be computed: one language only, en)" in printed
    assert "n 0)" not in printed and "not left out" not in printed
    assert "leave one language out" not in "".join(load_model(out).info["cross_validated"])  # no zeros kept
