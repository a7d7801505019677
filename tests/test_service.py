"""The service loop, the outbox across restarts, and the CLI commands, against real loopback servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor import config as config_mod
from monitor.cli import main
from monitor.demo import StaticSite
from monitor.errors import DeliveryError
from monitor.notify import NOTIFIER_KINDS
from monitor.once import run_once
from monitor.records import Alert
from monitor.service import Service
from monitor.store import Store
from monitor.store.sqlite import SqliteStore
from tests.testdata import SEED, seed_source, write_config

delivered: list[tuple[str, int]] = []


class RecordingNotifier:
    """A notifier of our own protocol that fails while `broken` is set, and records what it delivered."""

    broken = False

    def __init__(self, name: str) -> None:
        self.name = name

    async def deliver(self, alert: Alert) -> None:
        if RecordingNotifier.broken:
            raise DeliveryError("service unavailable", retry_after=0)
        delivered.append((self.name, alert.id))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def recording(name: str, options: Mapping[str, Any], store: Store) -> RecordingNotifier:
    return RecordingNotifier(name)


@pytest.fixture(autouse=True)
def recorder() -> Iterator[None]:
    NOTIFIER_KINDS["recording"] = recording
    delivered.clear()
    RecordingNotifier.broken = False
    yield
    del NOTIFIER_KINDS["recording"]


RECORDING: list[dict[str, object]] = [{"name": "rec", "kind": "recording"}]


def test_owed_alert_survives_an_outage_and_a_restart_and_is_delivered_once(site: StaticSite, tmp_path: Path) -> None:
    path = write_config(tmp_path, [seed_source(site)], RECORDING)
    RecordingNotifier.broken = True
    first = asyncio.run(run_once(config_mod.load(path)))
    assert len(first.alerts) == 1 and delivered == []
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        assert store.outbox_depth() == 1 and store.attempts(first.alerts[0].id, "rec") == 1
        now = datetime.now(UTC)
        assert store.owed("rec", now) == []  # backing off: not due yet
        store.mark_retry(first.alerts[0].id, "rec", "backoff over", now)  # as if the backoff had elapsed
    finally:
        store.close()
    RecordingNotifier.broken = False  # the outage ends; a new process starts
    second = asyncio.run(run_once(config_mod.load(path)))
    assert second.alerts == []
    assert delivered == [("rec", first.alerts[0].id)]
    asyncio.run(run_once(config_mod.load(path)))
    assert delivered == [("rec", first.alerts[0].id)]


@pytest.mark.parametrize("workers", [0, 1])
def test_service_polls_on_schedule_delivers_and_stops(site: StaticSite, tmp_path: Path, workers: int) -> None:
    path = write_config(tmp_path, [{**seed_source(site), "interval": 1, "jitter": 0}], RECORDING)
    path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | {"workers": workers}))
    service = Service(config_mod.load(path))

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        for _ in range(100):
            await asyncio.sleep(0.1)
            if delivered:
                break
        # a config edit adds a source: reload applies it without a restart
        data = yaml.safe_load(path.read_text())
        data["sources"].append({"name": "extra", "url": f"{site.base}/bd24live.xml", "interval": 1, "jitter": 0})
        path.write_text(yaml.safe_dump(data))
        assert service.reload().startswith("reloaded: 1 sources added")
        for _ in range(50):
            await asyncio.sleep(0.1)
            if site.hits.get("/bd24live.xml"):
                break
        path.write_text("sources: [\n")
        assert service.reload().startswith("rejected")
        service.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert len(delivered) == 1
    assert site.hits["/eng/rss/"] >= 1 and site.hits.get("/bd24live.xml", 0) >= 1


def test_cli_once_dry_run_and_sources_table(
    site: StaticSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, [seed_source(site)])
    assert main(["once", "--config", str(path), "--dry-run", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "[ALERT] ceasefire" in out.out and "dry run" in out.err
    assert not config_mod.load(path).db_path.exists()  # a dry run on a fresh install leaves no database behind
    assert main(["once", "--config", str(path), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["sources", "--config", str(path)]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if "panarmenian" in line)
    assert "200" in row
    assert main(["sources", "--config", str(path), "panarmenian"]) == 0
    assert "feed" in capsys.readouterr().out  # the kind, in the source's own view


def test_cli_extract_prints_body_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SEED / "article.html")]) == 0
    body = capsys.readouterr().out
    assert "violated the ceasefire on the contact line" in body and "Top stories" not in body
    assert main(["extract", str(SEED / "article.html"), "--json"]) == 0
    article = json.loads(capsys.readouterr().out)
    assert article["url"] == "http://www.panarmenian.net/eng/news/escalation-karabakh/"
    assert article["published"].startswith("2017-07-05 13:42")
    assert len(article["content_hash"]) == 64


def test_cli_explain_shows_terms_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "ceasefire NEAR/5 violat*", "--text", "Azerbaijan violated the ceasefire on Tuesday."])
    out = capsys.readouterr().out
    assert code == 0 and "violated" in out and "ceasefire" in out
    code = main(["explain", "ceasefire NEAR/5 violat*", "--text", "The festival opened on Tuesday."])
    assert code == 1


def test_cli_explain_reads_a_plain_text_file_as_text_and_a_page_as_a_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = "Azerbaijan violated the ceasefire on the contact line on Tuesday, using mortars, the ministry said."
    text = tmp_path / "story.txt"
    text.write_bytes(story.encode("utf-16"))  # with its BOM, as an editor on Windows saves it
    assert main(["explain", "--watchlist", "ceasefire", "--file", str(text), "--language", "en"]) == 0
    assert capsys.readouterr().out.startswith("MATCH: watch list ceasefire")
    assert main(["explain", "violat* NEAR/5 ceasefire", "--file", str(SEED / "article.html")]) == 0
    assert main(["explain", "Partner NEAR/1 news", "--file", str(SEED / "article.html")]) == 1  # a sidebar's words


def test_cli_explain_judges_with_a_watch_list_and_shows_each_feature(capsys: pytest.CaptureFixture[str]) -> None:
    story = "Azerbaijani forces violated the ceasefire on the contact line on Tuesday, the ministry said."
    assert main(["explain", "--watchlist", "ceasefire", "--text", story, "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MATCH: watch list ceasefire") and "probability" in out and "language en" in out
    assert "feature violation = 1.00" in out and "base log-odds" in out
    passing = "Oil prices rose on Tuesday. Traders said markets had been calm since the 1994 ceasefire. Shares rose."
    assert main(["explain", "--watchlist", "ceasefire", "--text", passing, "--title", "Oil climbs"]) == 1
    assert "probability below the threshold" in capsys.readouterr().out
    assert main(["explain", "--watchlist", "nosuch", "--text", story]) == 2
    assert main(["explain", "--text", story]) == 2
    assert "needs a QUERY or --watchlist" in capsys.readouterr().err
