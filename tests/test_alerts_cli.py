"""`monitor alerts`: the recent alerts of a real SQLite store, by age and watch list, as text and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.store.sqlite import SqliteStore
from tests.telegram_support import NOTIFIER, make_alert
from tests.testdata import write_config


def alert_at(db: Path, age: timedelta, watchlist: str, title: str, **changes: Any) -> None:
    """Record an alert made `age` ago (the store's clock) in the database file `db`."""
    store = SqliteStore(db, clock=lambda: datetime.now(UTC) - age)
    try:
        make_alert(store, watchlist, title=title, **changes)
    finally:
        store.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, [], [{"name": NOTIFIER, "kind": "console"}])  # the notifier the alerts are owed to
    border = {"name": "Border", "queries": ["shelling"]}
    (tmp_path / "watchlists" / "border.yaml").write_text(yaml.safe_dump(border), encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    alert_at(db, timedelta(days=3), "ceasefire", "Old truce")
    alert_at(db, timedelta(hours=5), "ceasefire", "Truce holds", terms=("ceasefire", "Ceasefire", "truce"),
             source="Outlet A")
    alert_at(db, timedelta(hours=1), "Border", "Shelling at dawn", terms=("shelling",), source="Outlet B")
    return path


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    assert main(["alerts", "--config", str(config), *args]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_the_last_day_newest_first_with_outlet_time_terms_and_link(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = run(config, capsys)
    blocks = out.strip().split("\n\n")
    assert [b.splitlines()[1].strip() for b in blocks] == ["Shelling at dawn", "Truce holds"]
    truce = blocks[1].splitlines()
    assert truce[0].endswith(" UTC · ceasefire · Outlet A")
    assert truce[2] == "  matched: ceasefire, truce"  # a term differing only in case once
    assert truce[3].startswith("  https://news.example/")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert err.startswith("2 alert(s) since ")


def test_since_and_watchlist_narrow_it(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(config, capsys, "--since", "4d", "--watchlist", "ceasefire")
    assert "Old truce" in out and "Truce holds" in out and "Shelling" not in out
    out, err = run(config, capsys, "--since", "2h")
    assert "Shelling at dawn" in out and "Truce" not in out and err.startswith("1 alert(s)")
    out, _ = run(config, capsys, "--watchlist", "border")  # the configured 'Border', in any case
    assert "Shelling at dawn" in out
    out, err = run(config, capsys, "--since", "30m")
    assert out == "" and err.startswith("0 alert(s)")


def test_a_watch_list_not_in_the_config_is_named_and_its_stored_alerts_shown(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = run(config, capsys, "--watchlist", "ceasfire")  # a typo: nothing found, and the note says why
    assert out == "" and err.startswith("note: no configured watch list is named 'ceasfire' (configured: ")
    assert "Border" in err.splitlines()[0] and "ceasefire" in err.splitlines()[0]
    assert err.splitlines()[1].startswith("0 alert(s) since ")
    alert_at(config.parent / "db.sqlite3", timedelta(hours=2), "retired", "From a list taken out of the config")
    out, err = run(config, capsys, "--watchlist", "retired")
    assert "From a list taken out of the config" in out and err.startswith("note: no configured watch list is named")
    _, err = run(config, capsys, "--watchlist", "CEASEFIRE")
    assert not err.startswith("note:")


def test_json_and_the_limit(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = run(config, capsys, "--json", "--since", "1w", "--limit", "2")
    alerts = json.loads(out)
    assert [a["title"] for a in alerts] == ["Shelling at dawn", "Truce holds"]
    assert alerts[1]["terms"] == ["ceasefire", "truce"] and alerts[1]["source"] == "Outlet A"
    assert alerts[1]["url"].startswith("https://news.example/")
    assert datetime.fromisoformat(alerts[1]["created"]) < datetime.fromisoformat(alerts[0]["created"])
    assert "--limit for more" in err


def test_an_unreadable_duration_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["alerts", "--config", str(config), "--since", "soon"])
    assert exit_.value.code == 2
    assert "expected a duration such as" in capsys.readouterr().err


def test_a_since_longer_than_any_time_is_everything(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for since in ("99999999w", "9" * 400 + "w"):  # before year 1; longer than a timedelta holds
        out, err = run(config, capsys, "--since", since)
        assert "Old truce" in out and err.startswith("3 alert(s) since 0001-01-01 00:00 UTC")
    assert main(["redeliver", "--config", str(config), "--since", "99999999w"]) == 0
    assert "0 dead letter(s) since 0001-01-01 00:00 UTC" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["0", "-1", "99999999999999999999", "many"])
def test_a_limit_is_a_number_from_one_to_a_million(
    limit: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["alerts", "--config", str(config), "--limit", limit])
    assert exit_.value.code == 2
    assert "argument --limit: " in capsys.readouterr().err
    out, _ = run(config, capsys, "--limit", "1000000")
    assert "Shelling at dawn" in out


def test_redeliver_owes_the_dead_letters_again_and_says_how_many(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqliteStore(config.parent / "db.sqlite3")
    try:
        owed = store.owed(NOTIFIER, datetime.now(UTC))  # the three alerts of the fixture
        store.mark_failed(owed[0].id, NOTIFIER, "gave up")
        store.mark_failed(owed[1].id, NOTIFIER, "gave up")
    finally:
        store.close()
    assert main(["redeliver", "--config", str(config), "--notifier", "another"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"note: no configured notifier is named 'another' (configured: {NOTIFIER}); ")
    assert "0 dead letter(s) since " in err
    assert main(["redeliver", "--config", str(config), "--notifier", NOTIFIER]) == 0
    err = capsys.readouterr().err
    assert err.startswith("2 dead letter(s) since ")
    store = SqliteStore(config.parent / "db.sqlite3")
    try:
        assert store.outbox_depth(NOTIFIER) == 3 and store.dead_letters(datetime.now(UTC) - timedelta(days=1)) == 0
    finally:
        store.close()
