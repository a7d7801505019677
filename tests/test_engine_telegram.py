"""Telegram with the engine on PostgreSQL, in real processes against the Bot API stand-in: of two `monitor run`
processes exactly one holds the Telegram lock, polls the bot and sends (one reply per command, every alert once
per subscriber, no limit breached); when it is SIGKILLed the other takes over."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.engine import TELEGRAM_LOCK
from tests.botapi import BotApiStandIn
from tests.servers import LoopbackServer
from tests.telegram_support import TOKEN, stand_in, telegram_config
from tests.test_engine_worker import Engine, _until
from tests.testdata import write_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SUBSCRIBERS = (7, 8)
LATE = 9  # subscribes after the takeover
HOLDS = "this process sends Telegram's messages"


def _feed(stories: int) -> bytes:
    items = "".join(f"<item><title>Ceasefire violated overnight near village {n}</title>"
                    f"<link>http://news.example/{n}</link><guid>s{n}</guid>"
                    f"<description>Both sides accuse each other of violating the ceasefire near village {n}."
                    "</description></item>" for n in range(stories))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title>{items}</channel></rss>').encode()


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.1) as server:
        yield server


def _replied(api: BotApiStandIn, chat: int, count: int) -> bool:
    """`chat` got `count` messages and, a second later, still no more (a second poller would answer twice)."""
    if not _until(lambda: len(api.messages(chat)) >= count, 20):
        return False
    time.sleep(1.0)
    return len(api.messages(chat)) == count


def test_one_run_process_polls_the_bot_and_sends_and_another_takes_over_when_it_dies(
    tmp_path: Path, postgres_url: str, api: BotApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with LoopbackServer() as site:
        site.route("/feed", _feed(0), content_type="application/rss+xml")
        source = {"name": "outlet", "url": site.url("/feed"), "allow_private": True, "interval": 1}
        config = write_config(tmp_path, [source], [telegram_config(api)], storage={"url": postgres_url},
                              schedule={"jitter": 0}, engine={"heartbeat": 0.5, "stalled_after": 2.0},
                              health={"enabled": False}, reload={"watch": False})
        with Engine(config, "run", "monitor running") as first, Engine(config, "run", "monitor running") as second:
            assert _until(lambda: any(HOLDS in str(e.get("msg")) for e in first.events() + second.events()), 10)
            holder, other = (first, second) if any(HOLDS in str(e.get("msg")) for e in first.events()) \
                else (second, first)
            for chat in SUBSCRIBERS:
                api.command(chat, "/subscribe ceasefire")
                assert _replied(api, chat, 1)
            site.route("/feed", _feed(2), content_type="application/rss+xml")
            assert all(_replied(api, chat, 3) for chat in SUBSCRIBERS)
            assert not any(HOLDS in str(e.get("msg")) for e in other.events())  # it waited all along

            holder.kill()
            assert _until(lambda: any(HOLDS in str(e.get("msg")) for e in other.events()), 15), TELEGRAM_LOCK
            site.route("/feed", _feed(3), content_type="application/rss+xml")
            assert all(_replied(api, chat, 4) for chat in SUBSCRIBERS)
            api.command(LATE, "/subscribe ceasefire")
            assert _replied(api, LATE, 1)
            errors = other.errors()
    assert not errors, errors[:3]
    for chat in SUBSCRIBERS:
        stories = [m.text for m in api.messages(chat)[1:]]
        assert [s.split("village ")[1][0] for s in stories] == ["0", "1", "2"]  # each once, in order
    assert api.breaches == []
