"""The real python-telegram-bot Application against the Bot API stand-in: every command, groups, operators."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.bot.app import build_application, run_bot, start_bot
from monitor.bot.handlers import MAX_MUTE, AdminHooks, parse_duration
from monitor.notify.telegram import TelegramNotifier
from monitor.notify.telegram_filter import MAX_FILTER, _parsed
from monitor.query.parser import MAX_DEPTH, MAX_NEAR
from tests.botapi import BotApiStandIn, Sent
from tests.telegram_support import (
    NOTIFIER,
    EitherStore,
    chat_of,
    drain_all,
    make_alert,
    notifier_for,
    open_store,
    stand_in,
    until,
)

OPERATOR = 42
WATCHLISTS = {"ceasefire": "Truces & ceasefires", "border": "Border incidents <live>"}
FAST = {"per_second": 30, "chat_interval": 0.1, "group_per_minute": 20}


@dataclass
class Hooks:
    reloads: list[int] = field(default_factory=list)

    def admin(self) -> AdminHooks:
        async def reload() -> str:
            self.reloads.append(1)
            return "config reloaded: 2 watch lists"

        return AdminHooks(status=lambda: "uptime 1h, sources failing: none", sources=lambda: "feed-a ok", reload=reload)


@dataclass
class Bot:
    api: BotApiStandIn
    store: EitherStore
    notifier: TelegramNotifier
    hooks: Hooks

    async def say(self, chat: int, text: str, user: int | None = None, chat_type: str = "private") -> Sent:
        """Send a message as a user and return the bot's reply."""
        before = len(self.api.messages(chat))
        self.api.command(chat, text, user, chat_type)
        await until(lambda: len(self.api.messages(chat)) > before)
        return self.api.messages(chat)[before]

    async def press(self, chat: int, data: str, user: int | None = None, chat_type: str = "private") -> Sent:
        before = len(self.api.messages(chat))
        self.api.press(chat, data, user, chat_type)
        await until(lambda: len(self.api.messages(chat)) > before)
        return self.api.messages(chat)[before]


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.1) as server:
        yield server


@pytest.fixture
async def bot(api: BotApiStandIn, tmp_path: Path) -> AsyncIterator[Bot]:
    store = open_store(tmp_path / "monitor.sqlite3")
    notifier = notifier_for(store, api.base_url, rate=FAST, admins=[OPERATOR], timezone="Asia/Yerevan")
    hooks = Hooks()
    app = build_application(notifier, WATCHLISTS, hooks.admin())
    task = asyncio.create_task(run_bot(app, poll_timeout=0.5))
    await notifier.start()
    try:
        await until(lambda: any(c[0] == "setMyCommands" for c in api.calls))
        yield Bot(api, store, notifier, hooks)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await notifier.stop()
        store.close()
    assert api.breaches == []


async def test_start_greets_and_registers_the_chat(bot: Bot) -> None:
    reply = await bot.say(11, "/start")
    assert reply.text.startswith("Hello!")
    assert "/subscribe" in reply.text and "/status" not in reply.text
    assert chat_of(bot.store, "11").kind == "private"


async def test_help_lists_commands_and_operators_see_theirs(bot: Bot) -> None:
    assert "/digest off|hourly|daily" in (await bot.say(12, "/help")).text
    assert "/status" in (await bot.say(OPERATOR, "/help")).text


async def test_subscribe_and_unsubscribe_by_name(bot: Bot) -> None:
    assert (await bot.say(13, "/subscribe ceasefire")).text == "Subscribed to ceasefire."
    assert (await bot.say(13, "/subscribe ceasefire")).text == "Already following ceasefire."
    assert "no watch list called nope" in (await bot.say(13, "/subscribe nope")).text
    assert bot.store.subscriptions("13") == ["ceasefire"]
    assert (await bot.say(13, "/unsubscribe ceasefire")).text == "Unsubscribed from ceasefire."
    assert (await bot.say(13, "/unsubscribe ceasefire")).text == "This chat does not follow ceasefire."
    assert bot.store.subscriptions("13") == []


def buttons(message: Sent) -> list[str]:
    markup = json.loads(message.params["reply_markup"])
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


async def test_subscribe_without_argument_offers_a_keyboard_with_descriptions(bot: Bot) -> None:
    menu = await bot.say(14, "/subscribe")
    assert buttons(menu) == ["sub:border", "sub:ceasefire"]
    assert "Truces & ceasefires" in menu.text and "Border incidents <live>" in menu.text
    reply = await bot.press(14, "sub:ceasefire")
    assert reply.text == "Subscribed to ceasefire."
    assert bot.api.callback_answers[-1]["text"] == "Subscribed to ceasefire."
    assert bot.store.subscriptions("14") == ["ceasefire"]
    assert buttons(await bot.say(14, "/subscribe")) == ["sub:border"]
    assert buttons(await bot.say(14, "/unsubscribe")) == ["unsub:ceasefire"]
    await bot.press(14, "unsub:ceasefire")
    assert bot.store.subscriptions("14") == []
    assert "follows no watch list" in (await bot.say(14, "/unsubscribe")).text


async def test_list_shows_subscriptions_mute_and_digest(bot: Bot) -> None:
    assert "No watch lists yet" in (await bot.say(15, "/list")).text
    await bot.say(15, "/subscribe border")
    await bot.say(15, "/digest daily")
    await bot.say(15, "/mute 2h")
    listing = (await bot.say(15, "/list")).text
    assert "• border" in listing and "Digest: daily." in listing and "Muted until" in listing


async def test_recent_shows_the_last_alerts_of_the_chats_watch_lists(bot: Bot) -> None:
    assert "follows no watch list" in (await bot.say(16, "/recent")).text
    await bot.say(16, "/subscribe ceasefire")
    assert "No alerts yet" in (await bot.say(16, "/recent")).text
    for i in range(3):
        make_alert(bot.store, "ceasefire", title=f"Truce {i}")
    make_alert(bot.store, "border", title="Shelling")
    reply = (await bot.say(16, "/recent 2")).text
    assert reply.startswith("Recent: 2 alerts")
    assert "Truce 2" in reply and "Truce 1" in reply and "Truce 0" not in reply and "Shelling" not in reply
    assert "Usage" in (await bot.say(16, "/recent many")).text


async def test_mute_stops_alerts_until_unmute(bot: Bot) -> None:
    await bot.say(17, "/subscribe ceasefire")
    assert "Usage" in (await bot.say(17, "/mute soon")).text
    assert (await bot.say(17, "/mute 1h30m")).text.startswith("Muted until")
    make_alert(bot.store, title="Muted story")
    await drain_all(bot.store, bot.notifier)
    assert bot.store.telegram_stats(NOTIFIER).owed == 0  # nothing owed to a muted chat
    assert (await bot.say(17, "/unmute")).text == "Alerts resumed."
    make_alert(bot.store, title="Heard story")
    await drain_all(bot.store, bot.notifier)
    await until(lambda: any("Heard story" in m.text for m in bot.api.messages(17)))
    assert not any("Muted story" in m.text for m in bot.api.messages(17))


async def test_digest_sets_the_mode(bot: Bot) -> None:
    await bot.say(18, "/start")
    assert "hourly digest" in (await bot.say(18, "/digest hourly")).text
    assert chat_of(bot.store, "18").digest == "hourly"
    assert "Usage" in (await bot.say(18, "/digest weekly")).text
    await bot.say(18, "/digest off")
    assert chat_of(bot.store, "18").digest == "off"


async def test_in_groups_only_admins_may_change_subscriptions(bot: Bot) -> None:
    group = -100500
    refusal = await bot.say(group, "/subscribe ceasefire", user=7, chat_type="supergroup")
    assert refusal.text == "Only this group's admins can change its alerts."
    assert bot.store.subscriptions(str(group)) == []
    bot.api.press(group, "sub:ceasefire", user=7, chat_type="supergroup")
    await until(lambda: len(bot.api.callback_answers) == 1)
    assert bot.store.subscriptions(str(group)) == []
    bot.api.set_member(group, 8, "administrator")
    assert (await bot.say(group, "/subscribe ceasefire", user=8, chat_type="supergroup")).text == (
        "Subscribed to ceasefire."
    )
    assert chat_of(bot.store, str(group)).kind == "supergroup"
    assert "ceasefire" in (await bot.say(group, "/list", user=7, chat_type="supergroup")).text  # reading is open


async def test_operator_commands_answer_operators(bot: Bot) -> None:
    await bot.say(19, "/subscribe ceasefire")
    make_alert(bot.store, "ceasefire")
    status = (await bot.say(OPERATOR, "/status")).text
    assert "uptime 1h, sources failing: none" in status and "telegram deliveries owed: 0" in status
    assert (await bot.say(OPERATOR, "/sources")).text == "feed-a ok"
    stats = (await bot.say(OPERATOR, "/stats")).text
    assert "private: 1" in stats and "alerts in the last 24 h:\n  ceasefire: 1" in stats
    assert (await bot.say(OPERATOR, "/reload")).text == "config reloaded: 2 watch lists"
    assert bot.hooks.reloads == [1]


@pytest.mark.parametrize("command", ["/status", "/sources", "/stats", "/reload"])
async def test_operator_commands_politely_refuse_everyone_else(
    bot: Bot, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="monitor.bot.handlers")
    reply = await bot.say(20, command)
    assert reply.text == "Sorry, this command is only for the operators of this bot."
    assert f"refused {command} from user 20" in caplog.text
    assert bot.hooks.reloads == []


def test_durations() -> None:
    assert parse_duration("90") == parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("soon") is None
    assert parse_duration("1h later") is None


@asynccontextmanager
async def started_bot(api: BotApiStandIn, tmp_path: Path) -> AsyncIterator[None]:
    """The bot as the service starts it (`start_bot`), on a store in `tmp_path`; stopped after the block."""
    store = open_store(tmp_path / "monitor.sqlite3")
    notifier = notifier_for(store, api.base_url, rate=FAST)
    task = start_bot([notifier], WATCHLISTS, Hooks().admin())
    assert task is not None
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await notifier.stop()
        store.close()


async def test_the_bot_waits_for_an_unreachable_bot_api_then_answers(api: BotApiStandIn, tmp_path: Path) -> None:
    api.down = True
    async with started_bot(api, tmp_path):
        await until(lambda: sum(c[0] == "getMe" for c in api.calls) >= 2)
        api.down = False
        api.command(31, "/help")
        await until(lambda: len(api.messages(31)) == 1)
    assert "/subscribe" in api.messages(31)[0].text
    assert start_bot([], WATCHLISTS, Hooks().admin()) is None


async def test_a_bot_that_dies_of_an_error_is_started_again_and_answers(
    api: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer the library cannot read (not a Telegram error, so not retried inside the bot) kills the bot's
    run; it is logged and the bot started again, and then it answers."""
    api.garbled_get_me = 1
    async with started_bot(api, tmp_path):
        api.command(32, "/help")
        await until(lambda: len(api.messages(32)) == 1)
    died = [r for r in caplog.records if "background task telegram bot" in r.getMessage() and "died" in r.getMessage()]
    assert len(died) == 1 and died[0].levelno == logging.ERROR


def alerts(bot: Bot, chat: int) -> list[str]:
    """The titles of the alerts a chat received, in order."""
    return [m.text.splitlines()[0] for m in bot.api.messages(chat) if "\nWatch list ceasefire · " in m.text]


async def test_a_subscriber_query_narrows_the_watch_list_to_articles_that_also_match_it(bot: Bot) -> None:
    _parsed.cache_clear()
    reply = await bot.say(51, "/subscribe ceasefire Karabakh")
    assert reply.text == "Subscribed to ceasefire. ceasefire: only alerts whose article also matches Karabakh."
    await bot.say(52, "/subscribe ceasefire")
    await bot.say(53, "/subscribe ceasefire")
    await bot.say(53, "/filter ceasefire  Karabakh")  # the same filter as 51's
    assert "• ceasefire — only Karabakh" in (await bot.say(51, "/list")).text
    make_alert(bot.store, title="Truce in Karabakh holds", body="Both sides agreed to a ceasefire. Karabakh was quiet.")
    make_alert(bot.store, title="Gaza truce talks", body="Both sides agreed to a ceasefire in Gaza.")
    make_alert(bot.store, title="Talks resume",
               body="Both sides agreed to a ceasefire. " * 20 + "Villages in Karabakh rebuild.")
    await drain_all(bot.store, bot.notifier)
    await until(lambda: len(alerts(bot, 52)) == 3 and bot.store.telegram_stats(NOTIFIER).owed == 0)
    narrowed = ["Truce in Karabakh holds", "Talks resume"]  # the last by its text, beyond the snippet
    assert alerts(bot, 51) == alerts(bot, 53) == narrowed
    assert alerts(bot, 52) == ["Truce in Karabakh holds", "Gaza truce talks", "Talks resume"]
    assert bot.store.outbox_depth() == 0
    assert _parsed.cache_info().misses == 1  # one distinct filter: parsed once, read once per alert
    assert _parsed.cache_info().hits == 2
    recent = (await bot.say(51, "/recent")).text
    assert recent.startswith("Recent: 2 alerts") and "Gaza" not in recent  # /recent as the filter narrows it


async def test_filter_sets_clears_and_explains_what_it_cannot_read(bot: Bot) -> None:
    assert "does not follow ceasefire" in (await bot.say(54, "/filter ceasefire Karabakh")).text
    await bot.say(54, "/subscribe ceasefire")
    await bot.say(54, "/subscribe border")
    reply = (await bot.say(54, "/filter CEASEFIRE Karabakh OR Artsakh")).text
    assert reply == "ceasefire: only alerts whose article also matches Karabakh OR Artsakh."
    for query, why in [
        ("(Karabakh", "missing ')' at position 9"),
        (f"a NEAR/{MAX_NEAR + 1} b", f"NEAR distance must be 0..{MAX_NEAR}"),
        ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        ("titel:Karabakh", "unknown field"),
        ("Karabakh " * 40, f"at most {MAX_FILTER} characters"),
    ]:
        reply = (await bot.say(54, f"/filter ceasefire {query}")).text
        assert reply.startswith("That filter cannot be read: ") and why in reply, (query, reply)
    assert bot.store.filters("54") == {"ceasefire": "Karabakh OR Artsakh"}
    assert (await bot.say(54, "/filter ceasefire off")).text == "ceasefire: every alert, no filter."
    assert bot.store.filters("54") == {}
    await bot.say(54, "/filter border Lachin")
    await bot.say(54, "/filter ceasefire Karabakh")
    assert (await bot.say(54, "/filter off")).text == "Filters cleared: border, ceasefire."
    assert bot.store.filters("54") == {}
    assert (await bot.say(54, "/filter off")).text == "This chat has no filter."
    assert (await bot.say(54, "/filter ceasefire")).text.startswith("Usage: /filter")
    assert "cannot be read" in (await bot.say(55, "/subscribe ceasefire Karabakh)")).text
    assert bot.store.subscriptions("55") == []  # a filter that cannot be read subscribes nothing
    refusal = await bot.say(-100600, "/filter ceasefire x", user=7, chat_type="supergroup")
    assert refusal.text == "Only this group's admins can change its alerts."


async def test_watch_list_names_are_matched_ignoring_case(bot: Bot) -> None:
    assert (await bot.say(56, "/subscribe CeaseFire")).text == "Subscribed to ceasefire."
    assert (await bot.say(56, "/subscribe BORDER")).text == "Subscribed to border."
    assert bot.store.subscriptions("56") == ["border", "ceasefire"]
    assert (await bot.say(56, "/unsubscribe Ceasefire")).text == "Unsubscribed from ceasefire."
    assert bot.store.subscriptions("56") == ["border"]


async def test_mute_says_when_it_caps_the_duration(bot: Bot) -> None:
    await bot.say(57, "/subscribe ceasefire")
    capped = f"({MAX_MUTE.days} days, the longest a mute lasts)"
    assert capped not in (await bot.say(57, "/mute 2h")).text
    assert capped not in (await bot.say(57, f"/mute {MAX_MUTE.days}d")).text
    assert capped in (await bot.say(57, "/mute 60d")).text
    assert capped in (await bot.say(57, "/mute 99999999999999w")).text  # beyond what a timedelta holds


async def test_stats_count_only_chats_that_follow_something(bot: Bot) -> None:
    await bot.say(58, "/start")
    await bot.say(59, "/subscribe ceasefire")
    await bot.say(-100700, "/help", chat_type="group")
    await bot.say(60, "/subscribe border")
    await bot.say(61, "/start")
    bot.store.deactivate_chat("60", "blocked")
    bot.store.deactivate_chat("61", "blocked")
    stats = (await bot.say(OPERATOR, "/stats")).text
    assert "subscribers (active chats):\n  private: 1\n  inactive: 1\n" in stats
