"""Real `monitor` processes that an unlucky operator runs: one clear line on stderr and a non-zero exit, never
a traceback (missing files, closed ports, bad queries, files that are not JSONL, failing sources, a database
this user cannot write, article links the address guard refuses, output into a closed pipe)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from monitor.demo import StaticSite
from tests.testdata import REPO, SEED, seed_source, write_config

from .process import free_port
from .test_config import write

PR_CAPBSET_DROP = 24  # prctl(2)
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # capabilities(7): bypass file permission checks


def monitor(*args: str, stdout: int = subprocess.PIPE, plain_user: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `python -m monitor ARGS` in a process of its own; `plain_user`: bound by file permissions even as root."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "monitor", *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                          env=env, timeout=60, check=False, preexec_fn=without_file_override if plain_user else None)


def without_file_override() -> None:
    """In the child, before exec: drop the capabilities with which root ignores file permissions (a user has none)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if os.geteuid() == 0 and libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def one_error_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The single line a failed command printed on stderr (after asserting there is exactly one, and the exit)."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["extract", "nosuch.html"], ["nosuch.html", "No such file"]),
        (["extract", "http://127.0.0.1:{port}/page"], ["http://127.0.0.1:{port}/page", "refused"]),
        (["extract", "http://[bad/"], ["http://[bad/"]),
        (["explain", "ceasefire", "--file", "nosuch.txt"], ["nosuch.txt", "No such file"]),
        (["explain", "ceasefire", "--url", "http://127.0.0.1:{port}/"], ["http://127.0.0.1:{port}/", "refused"]),
    ],
    ids=["extract-file", "extract-closed-port", "extract-bad-url", "explain-file", "explain-closed-port"],
)
def test_an_unreadable_page_is_one_line_naming_it(args: list[str], names: list[str], tmp_path: Path) -> None:
    port = str(free_port())
    line = one_error_line(monitor(*(a.replace("{port}", port) for a in args)))
    assert line.startswith("error: ")
    for name in names:
        assert name.replace("{port}", port) in line


def test_an_http_error_page_is_one_line_with_its_status(site: StaticSite) -> None:
    line = one_error_line(monitor("extract", f"{site.base}/nosuch"))
    assert f"{site.base}/nosuch" in line and "404" in line


@pytest.mark.parametrize(
    "args",
    [["check-config"], ["eval", "{items}"], ["eval", "{items}", "--json"], ["extract", str(SEED / "article.html")]],
    ids=["check-config", "eval", "eval-json", "extract"],
)
def test_output_into_a_closed_pipe_ends_quietly(args: Sequence[str], tmp_path: Path) -> None:
    config = write(tmp_path, "sources: []\n")
    items = tmp_path / "items.jsonl"
    items.write_text('{"title": "Ceasefire holds", "label": 1}\n' * 3, encoding="utf-8")
    read, written = os.pipe()
    os.close(read)  # as `| head -1` does once it has its line: every write gets EPIPE
    try:
        done = monitor(*(a.replace("{items}", str(items)) for a in args), "--config", str(config), stdout=written)
    finally:
        os.close(written)
    assert done.stderr == "" and done.returncode == 1  # as rich ends a table written into a closed pipe


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("ceasefire NEAR/999999 violat*", "NEAR distance must be 0..9999"),
        ("titel:ceasefire", "unknown field 'titel:' (the fields are title: and body:"),
        ("(" * 300 + "ceasefire" + ")" * 300, "query nested deeper than 50 levels"),
    ],
    ids=["near", "field", "nesting"],
)
def test_a_bad_query_is_one_line_saying_what_is_wrong(query: str, says: str) -> None:
    assert says in one_error_line(monitor("explain", query, "--text", "ceasefire violated"))


def test_a_colon_in_a_time_or_a_phrase_is_still_searched() -> None:
    assert monitor("explain", '"10:30" OR 10:30', "--text", "talks at 10:30 today").returncode == 0
    assert monitor("explain", '"titel:ceasefire"', "--text", "titel: ceasefire").returncode == 0


def test_eval_of_a_file_that_is_not_jsonl_is_one_line(tmp_path: Path) -> None:
    config = write(tmp_path, "sources: []\n")
    feed = SEED / "feed.xml"
    line = one_error_line(monitor("eval", str(feed), "--config", str(config)))
    assert str(feed) in line and "no labelled items" in line and "JSON" in line


def test_once_exits_non_zero_when_every_source_failed(tmp_path: Path) -> None:
    port = free_port()
    sources: list[dict[str, object]] = [{"name": n, "url": f"http://127.0.0.1:{port}/{n}.xml"} for n in ("a", "b")]
    done = monitor("once", "--quiet", "--config", str(write_config(tmp_path, sources)))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "2 source(s) polled, 2 failed" in done.stderr and "no source could be polled" in done.stderr


def test_demo_with_a_config_that_is_not_there_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nosuch.yaml"
    line = one_error_line(monitor("demo", "--config", str(missing)))
    assert str(missing) in line and "no such file" in line


def test_once_polls_a_source_named_twice_once(site: StaticSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, [seed_source(site)])
    done = monitor("once", "--quiet", "--config", str(config), "panarmenian", "panarmenian")
    assert done.returncode == 0 and "1 source(s) polled, 0 failed" in done.stderr
    assert site.hits["/eng/rss/"] == 1


def test_a_refused_article_link_is_a_counted_failure_that_names_allow_private(site: StaticSite, tmp_path: Path) -> None:
    guarded = {**seed_source(site), "allow_private": False}
    done = monitor("once", "--quiet", "--config", str(write_config(tmp_path, [guarded])))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    refused = [line for line in done.stderr.splitlines() if line.startswith("panarmenian: article ")]
    assert len(refused) == 3 and all("allow_private: true" in line for line in refused)
    assert "1 source(s) polled, 0 failed, 3 article page(s) not fetched, 0 alert(s)" in done.stderr


@pytest.mark.parametrize("what", ["folder", "file"])
def test_a_database_this_user_cannot_write_says_which_and_what_to_do(what: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "a", "url": f"http://127.0.0.1:{free_port()}/feed.xml"}])
    config.write_text(config.read_text().replace("db.sqlite3", "data/db.sqlite3"))
    data = tmp_path / "data"
    assert monitor("once", "--quiet", "--config", str(config)).returncode == 1  # creates the database
    (data / "db.sqlite3").chmod(0o444) if what == "file" else data.chmod(0o555)
    try:
        line = one_error_line(monitor("once", "--quiet", "--config", str(config), plain_user=True))
    finally:
        data.chmod(0o755)
    assert str(data / "db.sqlite3") in line
    assert f"this user cannot write the {what}" in line and "permissions" in line and "storage.path" in line
