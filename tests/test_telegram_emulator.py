"""The Telegram notifier and bot against an emulator written elsewhere: npm's telegram-test-api (tests/emulator),
beside the project's own stand-in (tests/botapi.py), which shares the project's assumptions.

The emulator answers some calls unlike the Bot API: its sendMessage answer dates the message in milliseconds and
echoes link_preview_options as a string, so python-telegram-bot cannot read it, and it does not know setMyCommands
(HTTP 500). The message is sent all the same, so each must be counted as sent once, never sent again. Its getMe
lacks `is_bot`, without which no python-telegram-bot application starts: tests/emulator/server.js adds it.
Users talk to the bot through the emulator's own client API (/sendCommand; /getUpdates for a chat's messages).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.bot.app import build_application, run_bot
from monitor.bot.handlers import AdminHooks
from monitor.notify.telegram import TelegramNotifier
from tests.process import free_port
from tests.telegram_support import TOKEN, EitherStore, drain_all, make_alert, notifier_for, open_store, until

EMULATOR = Path(__file__).parent / "emulator"
WATCHLISTS = {"ceasefire": "Truces & ceasefires", "border": "Border incidents"}


@dataclass
class Emulator:
    """telegram-test-api on loopback, and its client API: what users send, what the bot sent each chat."""

    url: str
    _seen: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def command(self, chat: int, text: str) -> None:
        """A user of a private chat sends a command to the bot (the emulator's client API)."""
        user = {"id": chat, "first_name": f"User {chat}", "username": f"user{chat}", "is_bot": False}
        message = {
            "botToken": TOKEN, "from": user, "chat": {**user, "type": "private"}, "date": int(time.time()),
            "text": text, "entities": [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}],
        }
        assert httpx.post(f"{self.url}/sendCommand", json=message).json()["ok"] is True

    def messages(self, chat: int) -> list[dict[str, Any]]:
        """Every message the bot sent to `chat` so far, in order (the emulator hands each out once)."""
        answer = httpx.post(f"{self.url}/getUpdates", json={"token": TOKEN, "chatId": chat}).json()
        assert answer["ok"] is True
        self._seen.setdefault(chat, []).extend(update["message"] for update in answer["result"])
        return self._seen[chat]

    async def reply(self, chat: int, text: str) -> str:
        """Send a command and return the text of the bot's answer."""
        before = len(self.messages(chat))
        self.command(chat, text)
        await until(lambda: len(self.messages(chat)) > before)
        return str(self.messages(chat)[before]["text"])


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    node = shutil.which("node")
    if node is None or not (EMULATOR / "node_modules" / "telegram-test-api").is_dir():
        why = "telegram-test-api is not installed (EXTRAS=dev scripts/install.sh installs it; it needs Node.js)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI installs it")
        pytest.skip(why)
    process = subprocess.Popen([node, "server.js", str(free_port())], cwd=EMULATOR, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline() or "{}")
        assert "ready" in ready, "the emulator did not start"
        yield Emulator(ready["ready"])
    finally:
        assert process.stdin is not None
        process.stdin.close()  # server.js stops when its standard input closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Sender:
    store: EitherStore
    notifier: TelegramNotifier


@pytest.fixture
async def sender(emulator: Emulator, tmp_path: Path) -> AsyncIterator[Sender]:
    """A telegram notifier against the emulator, started, on a real store."""
    store = open_store(tmp_path / "monitor.sqlite3")
    notifier = notifier_for(store, emulator.base_url, rate={"per_second": 30, "chat_interval": 0.05})
    await notifier.start()
    try:
        yield Sender(store, notifier)
    finally:
        await notifier.stop()
        store.close()


def subscribe(store: EitherStore, chat: int, watchlist: str = "ceasefire") -> None:
    now = datetime.now(UTC)
    store.register_chat(str(chat), "private", f"User {chat}", now)
    store.subscribe(str(chat), watchlist, now)


async def test_each_subscriber_gets_each_alert_once_though_the_answer_cannot_be_read(
    emulator: Emulator, sender: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    store, notifier = sender.store, sender.notifier
    for chat in (101, 102, 103):
        subscribe(store, chat)
    subscribe(store, 104, "border")
    first = make_alert(store, title="Truce broken at <dawn>")
    second = make_alert(store, title="Ceasefire extended")
    await drain_all(store, notifier)
    await until(lambda: all(len(emulator.messages(chat)) == 2 for chat in (101, 102, 103)))
    await asyncio.sleep(0.5)  # time for a second send of any of them, were one made
    for chat in (101, 102, 103):
        sent = emulator.messages(chat)
        assert [m["text"].splitlines()[0] for m in sent] == ["<b>Truce broken at &lt;dawn&gt;</b>",
                                                              "<b>Ceasefire extended</b>"]
        assert sent[0]["text"].endswith(first.url) and sent[1]["text"].endswith(second.url)
        assert all(m["parse_mode"] == "HTML" for m in sent)
        assert all(json.loads(m["link_preview_options"]) == {"is_disabled": True} for m in sent)
    assert emulator.messages(104) == []
    now = datetime.now(UTC)
    assert store.owed(notifier.name, now) == [] and store.due_deliveries(notifier.name, now) == []
    assert store.next_due(notifier.name) is None  # nothing left to send, now or later
    assert "was accepted by the Bot API (HTTP 200), but its answer could not be read" in caplog.text


class Hooks:
    def admin(self) -> AdminHooks:
        async def reload() -> str:
            return "config reloaded"

        return AdminHooks(status=lambda: "ok", sources=lambda: "none", reload=reload)


async def test_the_bot_answers_commands_and_what_it_subscribes_is_what_is_sent(
    emulator: Emulator, sender: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store, notifier = sender.store, sender.notifier
    app = build_application(notifier, WATCHLISTS, Hooks().admin())
    bot = asyncio.create_task(run_bot(app, poll_timeout=0.2))
    try:
        assert (await emulator.reply(201, "/start")).startswith("Hello!")
        assert await emulator.reply(201, "/subscribe ceasefire") == "Subscribed to <b>ceasefire</b>."
        assert await emulator.reply(201, "/subscribe ceasefire") == "Already following <b>ceasefire</b>."
        assert "no watch list called" in await emulator.reply(202, "/subscribe nope")
        listed = await emulator.reply(201, "/list")
        assert "ceasefire" in listed and "border" not in listed
        assert store.subscriptions("201") == ["ceasefire"] and store.subscriptions("202") == []
        alert = make_alert(store, title="Shelling despite the truce")
        await drain_all(store, notifier)
        await until(lambda: any(m["text"].endswith(alert.url) for m in emulator.messages(201)))
        assert not any(m["text"].endswith(alert.url) for m in emulator.messages(202))
        assert await emulator.reply(201, "/unsubscribe ceasefire") == "Unsubscribed from <b>ceasefire</b>."
        assert store.subscriptions("201") == []
    finally:
        bot.cancel()
        await asyncio.gather(bot, return_exceptions=True)
    assert "cannot set the command menu" in caplog.text  # the emulator has no setMyCommands: the bot runs on
    assert "bot handler failed" not in caplog.text  # an unreadable answer to a reply is no handler failure
