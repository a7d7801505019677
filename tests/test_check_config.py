"""check-config fails (exit 1, one line a problem) on what would stop the monitor later: a store file it could not
open, a notifier's invalid options; and it creates nothing."""

from __future__ import annotations

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
