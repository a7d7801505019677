"""Source health told to the operator, by the whole service: real loopback feed and listing servers, real SQLite,
the Bot API stand-in for the admins' chat. Each problem is told once when it opens and once when it clears, in the
log, /healthz and /metrics too; every source failing is one message; a restart announces nothing again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor import config as config_mod
from monitor.health import NO_SOURCE_REACHABLE
from monitor.service import Service
from tests.botapi import BotApiStandIn
from tests.process import free_port
from tests.servers import LoopbackServer
from tests.telegram_support import TOKEN, stand_in, telegram_config, until
from tests.testdata import write_config

OPERATOR = 42
FAST = {"check_every": 0.2, "failing_after": 0.6, "empty_listings": 2, "short_bodies": 3}
LISTING = b"<html><body><h2><a href='/a/1'>Talks resume</a></h2><h2><a href='/a/2'>Markets</a></h2></body></html>"
RELAID = b"<html><body><div class='card'><a href='/a/1'>Talks resume</a></div></body></html>"  # no h2 any more
PARAGRAPH = "<p>The delegations met for a third day in the capital and discussed the exchange of prisoners.</p>"


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.05) as server:
        yield server


def rss(base: str, items: list[tuple[str, datetime]]) -> bytes:
    entries = "".join(f"<item><title>Story {key}</title><link>{base}/a/{key}</link><guid>{base}/a/{key}</guid>"
                      f"<pubDate>{format_datetime(when)}</pubDate><description>Teaser {key}.</description></item>"
                      for key, when in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()


def config(tmp_path: Path, api: BotApiStandIn, sources: list[dict[str, object]]) -> Path:
    telegram = telegram_config(api, admins=[OPERATOR])
    return write_config(tmp_path, [{"jitter": 0, **s} for s in sources], [telegram], source_health=FAST,
                        schedule={"interval": 0.3, "jitter": 0}, fetch={"backoff_base": 0.1, "backoff_cap": 0.3},
                        health={"port": free_port()}, reload={"watch": False}, page_recheck={"enabled": False})


def told(api: BotApiStandIn) -> list[str]:
    return [m.text for m in api.messages(OPERATOR)]


def count(api: BotApiStandIn, text: str) -> int:
    return sum(text in m for m in told(api))


class Running:
    """A `Service` running in the test's event loop (as `monitor run` runs it) until the block ends."""

    def __init__(self, path: Path) -> None:
        self.service = Service(config_mod.load(path))

    async def __aenter__(self) -> Service:
        self.task = asyncio.create_task(self.service.run())
        return self.service

    async def __aexit__(self, *exc: object) -> None:
        self.service.stop()
        await asyncio.wait_for(self.task, 15)


async def problems(service: Service) -> list[tuple[str, str]]:
    """The source problems /healthz lists, asked over HTTP."""
    details: dict[str, Any] = (await get(service, "/healthz")).json()
    return sorted((p["source"], p["problem"]) for p in details["source_problems"])


async def get(service: Service, path: str) -> httpx.Response:
    assert service.health_server is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.health_server.port}", timeout=5) as client:
        return await client.get(path)


async def test_every_source_unreachable_is_one_message_and_what_still_fails_is_told_when_it_clears(
    api: BotApiStandIn, tmp_path: Path, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    names = [f"outlet{n}" for n in range(5)]
    path = config(tmp_path, api, [{"name": name, "url": f"{closed}/{name}.xml"} for name in names])
    async with Running(path) as service:
        await until(lambda: count(api, NO_SOURCE_REACHABLE) == 1)
        await asyncio.sleep(1.5)  # past failing_after for every source, several reviews
        assert told(api) == [f"source health:\nPROBLEM: {NO_SOURCE_REACHABLE}"]
        assert await problems(service) == [("*", "everything")]
        metrics = (await get(service, "/metrics")).text
        assert 'monitor_source_problem{problem="everything",source="*"} 1.0' in metrics

        data = yaml.safe_load(path.read_text())  # the network is back for outlet0 alone
        data["sources"][0]["url"] = http_server.route("/outlet0.xml", rss(http_server.base, []))
        path.write_text(yaml.safe_dump(data))
        service.reload()
        await until(lambda: count(api, "sources work again") == 1)
        [cleared] = [m for m in told(api) if "sources work again" in m]
        for name in names[1:]:  # held back while every source failed, told now they alone fail
            assert f"PROBLEM: source {name} has failed for" in cleared
            assert f"ConnectError fetching {closed}/{name}.xml" in cleared  # and why
        await asyncio.sleep(1.0)
        assert len(told(api)) == 2 and count(api, "has failed for") == 1
        assert await problems(service) == [(name, "failing") for name in names[1:]]


async def test_a_failing_feed_and_a_listing_that_no_longer_matches_are_told_once_and_not_again_after_a_restart(
    api: BotApiStandIn, tmp_path: Path, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    base, now = http_server.base, datetime.now(UTC)
    feed = rss(base, [("1", now - timedelta(hours=1))])
    path = config(tmp_path, api, [
        {"name": "calm", "url": http_server.route("/calm.xml", feed)},  # works throughout: not every source fails
        {"name": "gone", "url": http_server.route("/gone.xml", b"", status=410)},  # disabled: told once, as before
        {"name": "wire", "url": http_server.route("/feed.xml", feed)},
        {"name": "ministry", "kind": "html", "url": http_server.route("/list", LISTING, content_type="text/html"),
         "link_selector": "h2 a"},
    ])
    async with Running(path) as service:
        await until(lambda: service.health.polls >= 4)
        http_server.route("/feed.xml", b"", status=503)
        http_server.route("/list", RELAID, content_type="text/html")
        with caplog.at_level(logging.WARNING, logger="monitor.service"):
            await until(lambda: count(api, "source wire has failed for") > 0 < count(api, "link_selector matched"))
            await asyncio.sleep(1.0)
        assert count(api, "PROBLEM: source wire has failed for") == 1 and count(api, "HTTP 503") == 1
        assert count(api, "PROBLEM: source ministry: its link_selector matched no link") == 1
        assert count(api, "source ministry has failed") == 0  # the selector problem says it
        assert count(api, "source gone disabled: HTTP 410") == 1 and count(api, "source gone has failed") == 0
        warned = [r for r in caplog.records if r.name == "monitor.service" and r.levelno == logging.WARNING]
        assert sum("source wire has failed for" in r.getMessage() for r in warned) == 1
        assert await problems(service) == [("ministry", "selector"), ("wire", "failing")]
        metrics = (await get(service, "/metrics")).text
        assert 'monitor_source_problem{problem="failing",source="wire"} 1.0' in metrics
    before = len(told(api))

    async with Running(path) as service:  # a restart, the problems still there: nothing is told again
        await until(lambda: service.health.polls >= 6)
        await asyncio.sleep(1.0)
        assert len(told(api)) == before
        assert await problems(service) == [("ministry", "selector"), ("wire", "failing")]
        http_server.route("/feed.xml", feed)
        http_server.route("/list", LISTING, content_type="text/html")
        await until(lambda: count(api, "cleared: source wire works again") == 1)
        await until(lambda: count(api, "cleared: source ministry: its link_selector matches links again") == 1)
        await asyncio.sleep(0.6)
        assert await problems(service) == []
    assert len(told(api)) <= before + 2  # the two clearings, together or apart, and nothing else
    assert TOKEN not in "\n".join(told(api))


async def test_short_bodies_and_a_silent_feed_are_told_from_what_the_polls_taught(
    api: BotApiStandIn, tmp_path: Path, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    base, now = http_server.base, datetime.now(UTC)
    daily = [(str(n), now - timedelta(days=n, hours=1)) for n in range(5)]  # a story a day
    for key, _ in daily:
        http_server.route(f"/a/{key}", f"<html><body><article>{PARAGRAPH * 20}</article></body></html>".encode(),
                          content_type="text/html")
    http_server.route("/feed.xml", rss(base, daily))
    path = config(tmp_path, api, [{"name": "agency", "url": base + "/feed.xml", "fetch_article": True,
                                   "allow_private": True}])
    async with Running(path) as service:
        await until(lambda: service.health.polls >= 2)
        later = [(f"x{n}", now) for n in range(3)]  # the site lost its article markup: a line of text each
        for key, _ in later:
            http_server.route(f"/a/{key}", b"<html><body><p>Subscribe to read.</p></body></html>",
                              content_type="text/html")
        http_server.route("/feed.xml", rss(base, later + daily))
        await until(lambda: count(api, "article extraction gave short") == 1)
        [notice] = [m for m in told(api) if "article extraction" in m]
        assert "source agency: article extraction gave short" in notice and "check its article_selector" in notice
        # eight new items in the week: a usual gap of 21 h, so silent after 5 x 21 h with nothing new
        assert service.review_sources(now + timedelta(days=4)) == []
        [silent] = service.review_sources(now + timedelta(days=5))
        assert silent.problem.kind == "silent" and "where it usually brings a new item every 21h" in silent.text
        await until(lambda: count(api, "source agency is silent") == 1)


def test_check_config_says_what_source_health_and_page_re_checks_watch_and_whom_they_tell(
    api: BotApiStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    path = config(tmp_path, api, [{"name": "pan", "url": "https://pan.example/rss", "fetch_article": True},
                                  {"name": "wire", "url": "https://wire.example/rss"}])
    data = yaml.safe_load(path.read_text())
    data["page_recheck"] = {"every": "10m", "during": "12h"}
    path.write_text(yaml.safe_dump(data))
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert ("  source health: silent after 5x a source's usual gap (at least 3h), failing for 0.6s, 2 empty"
            " listings, 3 short bodies; told in the log, /healthz, /metrics and to 1 telegram admin chat(s)\n") in out
    assert ("  page re-checks: the alerted pages of 1 fetch_article source(s), every 10m for 12h after they"
            " alerted\n") in out
    data["source_health"], data["page_recheck"] = {"enabled": False}, {"enabled": False}
    path.write_text(yaml.safe_dump(data))
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  source health: off\n" in out and "  page re-checks: off\n" in out
