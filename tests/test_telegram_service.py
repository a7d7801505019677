"""The whole service with the Telegram notifier: feed on loopback -> pipeline -> outbox -> Bot API stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.service import Service
from tests.botapi import BotApiStandIn
from tests.telegram_support import TOKEN, stand_in, telegram_config, until
from tests.testdata import seed_source, write_config

OPERATOR = 42
SUBSCRIBER = 7
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>PanARMENIAN</title></channel></rss>'


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.1) as server:
        yield server
    assert server.breaches == []


async def test_a_subscriber_gets_the_seed_alert_once_and_operators_get_status(
    api: BotApiStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    telegram = telegram_config(api, admins=[OPERATOR])
    with StaticSite({}) as site:
        site.routes = seed_routes(site.base)
        site.routes["/eng/rss/"] = (EMPTY_FEED, "application/rss+xml")  # nothing to alert on yet
        path = write_config(tmp_path, [{**seed_source(site), "interval": 1, "jitter": 0}], [telegram])
        config = path.read_text() + "health: {enabled: false}\n"
        path.write_text(config)
        service = Service(config_mod.load(path))
        task = asyncio.create_task(service.run())
        try:
            await until(lambda: any(c[0] == "setMyCommands" for c in api.calls))
            api.command(SUBSCRIBER, "/subscribe ceasefire")
            await until(lambda: len(api.messages(SUBSCRIBER)) == 1)
            site.routes = seed_routes(site.base)  # the story appears in the feed
            await until(lambda: len(api.messages(SUBSCRIBER)) == 2, timeout=20)
            alert = api.messages(SUBSCRIBER)[1]
            assert alert.html.startswith("<b>Azerbaijan\u2019s recent escalation in Karabakh")
            assert "violated the <b>ceasefire</b>" in alert.html
            assert "http://www.panarmenian.net/eng/news/escalation-karabakh/" in alert.html

            api.command(OPERATOR, "/status")
            await until(lambda: len(api.messages(OPERATOR)) == 1)
            assert "outbox: 0 owed" in api.messages(OPERATOR)[0].text
            api.command(SUBSCRIBER, "/status")
            await until(lambda: len(api.messages(SUBSCRIBER)) == 3)
            assert "outbox" not in api.messages(SUBSCRIBER)[2].text

            metrics = service.metrics.render(service.store).decode()
            assert 'monitor_telegram_sends_total{outcome="ok"} 1.0' in metrics  # the alert (bot replies are not alerts)
            await asyncio.sleep(2.5)  # more polls of the unchanged feed
        finally:
            service.stop()
            await asyncio.wait_for(task, 15)
    assert len([m for m in api.messages(SUBSCRIBER) if "Karabakh" in m.text]) == 1
    assert TOKEN not in caplog.text
