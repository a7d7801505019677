"""`monitor sources`: 80 columns with every name and date whole, errors in full with --wide or NAME, health and
items per day, read from the store each time it is asked."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from monitor import config as config_mod
from monitor.cli import main
from monitor.demo import StaticSite
from monitor.once import run_once
from monitor.records import DISABLED_UNTIL, SourceState
from monitor.sourcelist import detail, table
from monitor.store import open_store
from tests.testdata import REPO, write_config

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ERROR = ("HTTP 503 Service Unavailable from https://news.un.org/feed/subscribe/en/news/region/middle-east/feed/rss.xml"
         " after 3 redirects; the server said: upstream connect error or disconnect/reset before headers")


def shipped(tmp_path: Path) -> config_mod.Settings:
    """The shipped sources (their names as long as they come) with a store in `tmp_path`."""
    settings = config_mod.load(REPO / "config" / "monitor.yaml")
    return settings.model_copy(update={"monitor": settings.monitor.model_copy(
        update={"storage": config_mod.StorageConfig(path=str(tmp_path / "db.sqlite3"))})})


def states() -> list[SourceState]:
    return [
        SourceState("un-news-middle-east", last_fetch=NOW - timedelta(minutes=3), last_status=503, error_count=12,
                    last_error=ERROR, next_due=NOW + timedelta(hours=5, minutes=20)),
        SourceState("bbc-world", last_fetch=NOW - timedelta(days=40), last_success=NOW, last_status=200,
                    next_due=NOW + timedelta(minutes=4)),
        SourceState("kyiv-independent", last_fetch=NOW - timedelta(hours=2), last_status=410, error_count=1,
                    last_error="HTTP 410 Gone: source disabled until its config changes", next_due=DISABLED_UNTIL),
    ]


def rendered(renderable: object, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text().splitlines()


def pairs(lines: list[str]) -> dict[str, str]:
    """The detail view's first line of each field: its name and value."""
    split = (re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in lines if line and not line.startswith(" "))
    return {kv[0]: kv[1] for kv in split if len(kv) == 2}


def test_the_table_fits_80_columns_with_every_name_and_date_whole(tmp_path: Path) -> None:
    settings = shipped(tmp_path)
    store = open_store(settings)
    try:
        for state in states():
            store.save_source_state(state)
        lines = rendered(table(settings, store, NOW))
    finally:
        store.close()
    assert max(map(len, lines)) <= 80 and not any("…" in line for line in lines)
    rows = {line.split()[0]: line.split() for line in lines if line.strip()}
    assert all(s.name in rows for s in settings.monitor.sources)  # every name whole, at the start of its row
    assert rows["un-news-middle-east"][1:] == ["failing", "5m", "0.0", "11-30", "11:57", "503", "12", "in", "5h20m"]
    assert rows["bbc-world"][1:] == ["ok", "5m", "0.0", "10-21", "12:00", "200", "0", "in", "4m"]
    assert rows["kyiv-independent"][1:] == ["disabled", "5m", "0.0", "11-30", "10:00", "410", "1", "-"]
    assert rows["panarmenian"][1:] == ["never", "5m", "0.0", "-", "-", "0", "due"]
    assert ERROR[:20] not in "\n".join(lines)  # errors: in --wide and the detail view

    store = open_store(settings)
    try:
        wide = rendered(table(settings, store, NOW, wide=True), width=100_000)
        one = rendered(detail(settings, settings.monitor.sources[11], store, NOW))
    finally:
        store.close()
    assert any(line.split()[0] == "un-news-middle-east" and line.rstrip().endswith(ERROR) for line in wide)
    assert max(map(len, one)) <= 80
    assert "".join(ERROR.split()) in "".join("".join(one).split())  # folded over lines, all of it there
    fields = pairs(one)
    assert {"last fetch", "last success", "last status", "last error", "error count", "next due", "etag",
            "last modified", "health", "items per day", "interval", "watch lists"} <= set(fields)
    assert fields["next due"] == "2026-11-30 17:20 (in 5 h)" and fields["health"] == "failing"


def test_the_command_reads_the_store_afresh_and_counts_items_per_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = "".join(f"<item><title>Story {n}</title><link>https://wire.example/{n}</link></item>" for n in range(14))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>w</title>{items}</channel></rss>'.encode()
    with StaticSite({"/rss": (feed, "application/rss+xml")}) as site:
        config = write_config(tmp_path, [{"name": "wire", "url": f"{site.base}/rss", "watchlists": ["ceasefire"]}])
        assert main(["sources", "--config", str(config)]) == 0
        before = capsys.readouterr().out
        asyncio.run(run_once(config_mod.load(config)))
        assert main(["sources", "--config", str(config)]) == 0
        after = capsys.readouterr().out
        assert main(["sources", "wire", "--config", str(config)]) == 0
        one = capsys.readouterr().out
    assert next(line for line in before.splitlines() if "wire" in line).split()[1:3] == ["never", "5m"]
    row = next(line for line in after.splitlines() if "wire" in line).split()
    assert row[1] == "ok" and row[3] == "2.0"  # 14 new items over the last week
    assert max(map(len, after.splitlines())) <= 80
    fields = pairs(one.splitlines())
    assert fields["items per day"] == "2.0 (last 1w)" and fields["watch lists"] == "ceasefire"
    assert main(["sources", "nosuch", "--config", str(config)]) == 2
    assert f"no source named 'nosuch' in {config} (configured: wire)" in capsys.readouterr().err


def test_show_names_a_source_called_like_an_action_and_a_plain_name_still_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [{"name": name, "url": f"https://{name}.example/rss"}
                                     for name in ("export", "import", "show", "wire")])
    for name in ("export", "import", "show", "wire"):
        assert main(["sources", "show", name, "--config", str(config)]) == 0
        assert pairs(capsys.readouterr().out.splitlines())["url"] == f"https://{name}.example/rss"
    for args in (["wire"], ["show"]):  # a plain NAME, and `show` alone naming the source called show
        assert main(["sources", *args, "--config", str(config)]) == 0
        assert pairs(capsys.readouterr().out.splitlines())["url"] == f"https://{args[0]}.example/rss"
    assert main(["sources", "export", "--config", str(config)]) == 0  # the action, as before
    assert capsys.readouterr().out.startswith("<?xml")
    assert main(["sources", "show", "wire", "export", "--config", str(config)]) == 2
    assert "usage: monitor sources show NAME" in capsys.readouterr().err
    assert main(["sources", "show", "nosuch", "--config", str(config)]) == 2
    assert "no source named 'nosuch'" in capsys.readouterr().err


def test_a_problem_the_admins_were_told_of_shows_as_the_sources_health_until_it_clears(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.sourcehealth import Observation, SourceWatch, Thresholds

    config = write_config(tmp_path, [{"name": "ministry", "url": "https://gov.example/news", "kind": "html",
                                      "link_selector": "h2 a"}, {"name": "wire", "url": "https://w.example/rss"}])
    settings = config_mod.load(config)
    store = open_store(settings)
    watch = SourceWatch(Thresholds())
    for name in ("ministry", "wire"):
        store.save_source_state(SourceState(name, last_fetch=NOW, last_success=NOW, last_status=200))
        watch.observe(Observation(name, NOW, new_items=1))
    for minutes in (1, 2):  # its link_selector stopped matching; the poll itself is fine
        watch.observe(Observation("ministry", NOW + timedelta(minutes=minutes), listing_empty=True))
    assert len(watch.review(NOW + timedelta(minutes=2), ["ministry", "wire"], None)) == 1
    for key, state in watch.dirty().items():
        store.save_health_state(key, state)
    store.close()
    assert main(["sources", "--config", str(config)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[2:] if line.strip()}
    assert rows["ministry"] == "selector" and rows["wire"] == "ok"
    assert main(["sources", "ministry", "--config", str(config)]) == 0
    assert pairs(capsys.readouterr().out.splitlines())["problems"].startswith(
        "source ministry: its link_selector matched no link")
    assert main(["sources", "wire", "--config", str(config)]) == 0
    assert pairs(capsys.readouterr().out.splitlines())["problems"] == "none"
