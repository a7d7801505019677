"""Hot reload from file edits: valid edits apply without a restart, invalid ones are refused and change nothing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yaml

from monitor import config as config_mod
from monitor.demo import StaticSite
from monitor.errors import ConfigError
from monitor.reload import ConfigWatch, snapshot
from monitor.service import Service
from tests.testdata import seed_source, write_config

from .test_health import sample


async def until(condition: object, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_file_edits_reload_the_service_and_a_bad_edit_keeps_the_old_config(
    site: StaticSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = {**seed_source(site), "interval": 0.3, "jitter": 0}
    path = write_config(tmp_path, [source], [{"name": "out", "kind": "console"}])
    data = yaml.safe_load(path.read_text())
    data["health"] = {"enabled": False}
    data["reload"] = {"interval": 0.1}
    path.write_text(yaml.safe_dump(data))
    service = Service(config_mod.load(path))
    told: list[str] = []
    service.admin_notices.append(told.append)
    watchlist = tmp_path / "watchlists" / "ceasefire.yaml"

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        await until(lambda: site.hits.get("/eng/rss/", 0) >= 1)
        data["sources"].append({"name": "extra", "url": f"{site.base}/bd24live.xml", "interval": 0.3, "jitter": 0})
        path.write_text(yaml.safe_dump(data))
        await until(lambda: site.hits.get("/bd24live.xml", 0) >= 1)
        assert {s.name for s in service.settings.enabled_sources()} == {"panarmenian", "extra"}

        good_watchlist = watchlist.read_text()
        watchlist.write_text(good_watchlist.replace("queries:", "queries: [\"ceasefire AND (\"]\nold_queries:", 1))
        await until(lambda: sample(service.metrics.render().decode(), "monitor_config_reloads_total",
                                   outcome="rejected") >= 1)
        polled = site.hits["/bd24live.xml"]
        await until(lambda: site.hits["/bd24live.xml"] > polled)  # the old config keeps running
        assert service.settings.watchlists[0].queries[0] != "ceasefire AND ("

        del data["sources"][1]
        path.write_text(yaml.safe_dump(data))
        watchlist.write_text(good_watchlist)
        await until(lambda: len(service.settings.enabled_sources()) == 1)
        service.stop()
        await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    assert sample(service.metrics.render().decode(), "monitor_config_reloads_total", outcome="ok") == 2
    rejected = [r.getMessage() for r in caplog.records if "reload rejected" in r.getMessage()]
    watchlist.write_text(watchlist.read_text().replace("queries:", "queries: [\"ceasefire AND (\"]\nold_queries:", 1))
    with pytest.raises(ConfigError) as check_config_error:  # what check-config says about the same edit
        config_mod.load(path)
    assert len(rejected) == 1 and str(check_config_error.value) in rejected[0]
    assert len(told) == 1 and str(check_config_error.value) in told[0]  # admins hear of it too


def test_watcher_waits_for_files_to_hold_still_and_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text("a: 1\n")
    calls: list[frozenset[tuple[str, int, int]]] = []

    async def scenario() -> None:
        watcher = asyncio.create_task(ConfigWatch(tmp_path, lambda: calls.append(snapshot(tmp_path)), 0.05).run())
        await asyncio.sleep(0.2)
        (tmp_path / "db.sqlite3").write_bytes(b"x" * 10)  # not config: no reload
        await asyncio.sleep(0.2)
        assert calls == []
        (tmp_path / "monitor.yaml").write_text("a: 2\n")
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "list.yml").write_text("b: 1\n")
        await asyncio.sleep(0.4)
        watcher.cancel()

    asyncio.run(scenario())
    assert len(calls) == 1
    assert {Path(p).name for p, _, _ in calls[0]} == {"monitor.yaml", "list.yml"}


def test_an_edit_made_before_the_watcher_first_looks_is_applied(tmp_path: Path) -> None:
    """The watch starts from the files as they were when it was made (just after the config was read), not as its
    first look finds them: an edit made just after start-up is a change."""
    (tmp_path / "monitor.yaml").write_text("a: 1\n")
    calls: list[int] = []
    watch = ConfigWatch(tmp_path, lambda: calls.append(1), 0.05)
    (tmp_path / "monitor.yaml").write_text("a: 22\n")  # before the watch runs

    async def scenario() -> None:
        watcher = asyncio.create_task(watch.run())
        await asyncio.sleep(0.3)
        watcher.cancel()

    asyncio.run(scenario())
    assert calls == [1]
