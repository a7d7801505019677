"""check-config fails (exit 1, one line a problem) on what would stop the monitor later: a store file it could not
open, a notifier's invalid options; and it creates nothing. An invalid CSS selector is an error of the config (exit 2)
or of `extract --selector`, not a failure at poll time or a silent fallback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store.sqlite import SqliteStore
from tests.test_config import write


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-config", "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("store", ["folder", "random bytes", "text"])
def test_a_store_file_sqlite_cannot_open_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    path = tmp_path / "store"
    if store == "folder":
        path.mkdir()
    else:
        path.write_bytes(bytes(range(256)) * 16 if store == "random bytes" else b"not a database\n")
    config = write(tmp_path, "storage: {path: store}\nsources: []\n")
    before = sorted(tmp_path.rglob("*"))
    code, _, err = check(config, capsys)
    assert code == 1
    assert f"STORAGE FAILS: cannot open the store at {path}: " in err
    assert sorted(tmp_path.rglob("*")) == before  # no journal file, nothing migrated


def test_a_new_or_existing_store_passes_and_a_new_one_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    code, out, _ = check(write(tmp_path, "storage: {path: data/new/monitor.db}\nsources: []\n"), capsys)
    assert code == 0 and f"storage: SQLite at {tmp_path / 'data/new/monitor.db'}: not created yet" in out
    assert not (tmp_path / "data").exists()
    SqliteStore(tmp_path / "monitor.db").close()
    code, out, _ = check(write(tmp_path, "storage: {path: monitor.db}\nsources: []\n"), capsys)
    assert code == 0 and f"storage: SQLite at {tmp_path / 'monitor.db'}: a database" in out


def test_invalid_notifier_options_fail_one_line_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    notifiers = ('[{name: w, kind: webhook, url: "http://127.0.0.1:1/", bogus: 3},'
                 ' {name: t, kind: telegram, admins: "notalist", timezone: "Mars/Olympus"}]')
    config = write(tmp_path, f"storage: {{path: monitor.db}}\nsources: []\nnotifiers: {notifiers}\n")
    code, out, err = check(config, capsys)
    assert code == 1
    assert "notifier w (webhook): invalid options\n" in out and "notifier t (telegram): invalid options\n" in out
    assert err.splitlines() == [
        f"  NOTIFIER FAILS: {config}: notifiers[0].bogus: Extra inputs are not permitted (got 3)",
        f"  NOTIFIER FAILS: {config}: notifiers[1].admins: Input should be a valid list (got 'notalist')",
        f"  NOTIFIER FAILS: {config}: notifiers[1].timezone: Value error, unknown timezone 'Mars/Olympus'"
        " (got 'Mars/Olympus')",
    ]


def test_a_notifier_that_only_lacks_a_secret_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE", "HOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    notifiers = ('[{name: w, kind: webhook, url: "http://127.0.0.1:1/", secret_env: HOOK_SECRET},'
                 ' {name: t, kind: telegram}]')
    code, out, err = check(write(tmp_path, f"storage: {{path: monitor.db}}\nsources: []\nnotifiers: {notifiers}\n"),
                           capsys)
    assert code == 0 and "FAILS" not in err
    assert "notifier w (webhook): waiting: notifier w: the secret variable $HOOK_SECRET is not set" in out
    assert "notifier t (telegram): waiting: no bot token" in out


def test_an_invalid_css_selector_of_an_html_source_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "sources:\n  - {name: h, kind: html, url: 'http://x.example/', link_selector: 'a[['}\n"
                   "  - {name: i, kind: html, url: 'http://x.example/', link_selector: a, title_selector: 'b[[['}\n"
                   "  - {name: j, url: 'http://x.example/f', fetch_article: true, article_selector: 'div[[['}\n")
    code, out, err = check(config, capsys)
    assert code == 2 and not out
    lines = err.splitlines()
    assert lines[0].startswith(f"error: {config}: sources[0].link_selector: Value error, invalid CSS selector 'a[[':")
    assert lines[1].startswith(f"{config}: sources[1].title_selector: Value error, invalid CSS selector 'b[[[':")
    assert lines[2].startswith(f"{config}: sources[2].article_selector: Value error, invalid CSS selector 'div[[[':")
    assert len(lines) == 3 and all("Malformed attribute selector at position" in line for line in lines)


def test_extract_with_an_invalid_selector_fails_instead_of_falling_back(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>Ceasefire holds.</p></article></body></html>", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "monitor", "extract", str(page), "--selector", "a[[["],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and not run.stdout
    assert run.stderr == "error: invalid CSS selector 'a[[[': Malformed attribute selector at position 1\n"
