"""The telegram notifier against the Bot API stand-in: fan-out, limits, every error path, restarts, outages."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ConfigError
from monitor.notify import NOTIFIER_KINDS
from monitor.notify.telegram import TelegramNotifier
from monitor.notify.telegram_options import load_token
from monitor.store.migrations import apply_migrations, schema_version
from monitor.store.sqlite import CORE_MIGRATIONS, SqliteStore
from monitor.store.telegram import TELEGRAM_MIGRATIONS
from tests.botapi import BotApiStandIn, Fault
from tests.telegram_support import (
    NOTIFIER,
    TOKEN,
    EitherStore,
    chat_of,
    drain_all,
    make_alert,
    notifier_for,
    open_store,
    stand_in,
    started,
    until,
)

FAST = {"per_second": 30, "chat_interval": 0.2, "group_per_minute": 20, "margin": 0.02}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.2) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EitherStore]:
    s = open_store(tmp_path / "monitor.sqlite3")
    yield s
    s.close()


def subscribe(store: EitherStore, chat: int | str, *watchlists: str, kind: str = "private") -> None:
    store.register_chat(str(chat), kind, f"chat {chat}", NOW)
    for name in watchlists:
        store.subscribe(str(chat), name, NOW)


def running(store: EitherStore, api: BotApiStandIn, **options: Any) -> AbstractAsyncContextManager[TelegramNotifier]:
    """A notifier against `api` at the FAST limits, started for the `async with` block and stopped after it."""
    return started(notifier_for(store, api.base_url, rate=FAST, **options))


def texts(api: BotApiStandIn, chat: int | str) -> list[str]:
    return [m.text for m in api.messages(chat)]


async def test_an_alert_reaches_every_subscribed_active_unmuted_chat_once(
    store: EitherStore, api: BotApiStandIn
) -> None:
    subscribe(store, 101, "ceasefire")
    subscribe(store, 102, "ceasefire", "other")
    subscribe(store, 103, "other")
    subscribe(store, 104, "ceasefire")
    store.set_muted("104", datetime.now(UTC) + timedelta(hours=1))
    subscribe(store, 105, "ceasefire")
    store.deactivate_chat("105", "blocked")
    async with running(store, api, channels=[{"chat": "@newsroom", "watchlists": ["ceasefire"]}]) as notifier:
        make_alert(store, title="Truce holds")
        assert await drain_all(store, notifier) == 1
        await until(lambda: len(api.messages()) == 3)
    assert sorted(str(m.chat_id) for m in api.messages()) == ["101", "102", "@newsroom"]
    assert all("Truce holds" in m.text for m in api.messages())
    assert store.outbox_depth() == 0
    assert store.telegram_stats(NOTIFIER).owed == 0
    assert api.breaches == []


async def test_messages_to_one_chat_arrive_in_alert_order_within_the_limits(
    store: EitherStore, api: BotApiStandIn
) -> None:
    for chat in (201, 202, -203):
        subscribe(store, chat, "ceasefire", kind="private" if chat > 0 else "group")
    titles = [f"Round {i}" for i in range(5)]
    for title in titles:
        make_alert(store, title=title)
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages()) == 15)
    for chat in (201, 202, -203):
        assert [t.splitlines()[0] for t in texts(api, chat)] == titles
    assert api.breaches == []


async def test_retry_after_is_honoured_and_the_alert_still_arrives(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 301, "ceasefire")
    api.fail(301, Fault("retry_after", 1))
    make_alert(store, title="Flood")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(301)) == 1)
    assert api.refused == [(301, "Too Many Requests: retry after 1")]
    assert api.breaches == []  # nothing was sent to 301 before retry_after ran out


@pytest.mark.parametrize("fault", [Fault("forbidden"), Fault("not_found")])
async def test_a_gone_chat_is_marked_inactive_and_left_alone(
    store: EitherStore, api: BotApiStandIn, fault: Fault
) -> None:
    subscribe(store, 401, "ceasefire")
    subscribe(store, 402, "ceasefire")
    api.fail(401, fault)
    make_alert(store, title="First")
    make_alert(store, title="Second")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(402)) == 2)
        await until(lambda: not chat_of(store, "401").active)
        make_alert(store, title="Third")
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(402)) == 3)
    assert api.messages(401) == []
    assert [c for c, _ in api.refused] == [401]  # one refusal, then no more attempts
    assert store.telegram_stats(NOTIFIER).owed == 0


async def test_a_migrated_group_moves_its_subscription_and_gets_the_alert(
    store: EitherStore, api: BotApiStandIn
) -> None:
    subscribe(store, -501, "ceasefire", kind="group")
    store.set_filter("-501", "ceasefire", "ceasefire")
    api.fail(-501, Fault("migrate", -1000000000501))
    make_alert(store, title="Moved")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(-1000000000501)) == 1)
        make_alert(store, title="After the move")
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(-1000000000501)) == 2)
    assert [t.splitlines()[0] for t in texts(api, -1000000000501)] == ["Moved", "After the move"]
    assert store.subscriptions("-1000000000501") == ["ceasefire"]
    assert store.filters("-1000000000501") == {"ceasefire": "ceasefire"}  # its filter moved with it
    assert store.subscriptions("-501") == []
    assert api.breaches == []


async def test_server_errors_and_timeouts_retry_with_backoff(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 601, "ceasefire")
    api.fail(601, Fault("error", 500), Fault("hang", 3), Fault("error", 502))
    make_alert(store, title="Persistent")
    make_alert(store, title="Next")
    async with running(store, api, timeout=0.5) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(601)) == 2)
    assert [t.splitlines()[0] for t in texts(api, 601)] == ["Persistent", "Next"]
    assert len([c for c in api.calls if c[0] == "sendMessage"]) == 5  # three failures, then the two messages
    assert api.breaches == []


async def test_a_message_telegram_refuses_fails_alone(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 701, "ceasefire")
    api.fail(701, Fault("bad_request"))
    make_alert(store, title="Refused")
    make_alert(store, title="Accepted")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(701)) == 1)
    assert texts(api, 701)[0].startswith("Accepted")
    assert chat_of(store, "701").active
    assert store.telegram_stats(NOTIFIER).owed == 0


async def test_a_restart_resumes_what_was_owed(store: EitherStore, api: BotApiStandIn, tmp_path: Path) -> None:
    for chat in (801, 802):
        subscribe(store, chat, "ceasefire")
    api.down = True
    async with running(store, api) as notifier:
        for i in range(3):
            make_alert(store, title=f"Owed {i}")
        await drain_all(store, notifier)
        await until(lambda: any(c[0] == "getMe" for c in api.calls))
    store.close()
    assert api.messages() == []

    api.down = False
    reopened = open_store(tmp_path / "monitor.sqlite3")
    try:
        assert reopened.telegram_stats(NOTIFIER).owed == 6
        async with running(reopened, api):
            await until(lambda: len(api.messages()) == 6)
        assert reopened.telegram_stats(NOTIFIER).owed == 0
    finally:
        reopened.close()
    for chat in (801, 802):
        assert [t.splitlines()[0] for t in texts(api, chat)] == ["Owed 0", "Owed 1", "Owed 2"]
    assert api.breaches == []


async def test_an_outage_loses_nothing_and_the_queue_flows_out_afterwards(
    store: EitherStore, api: BotApiStandIn
) -> None:
    chats = list(range(901, 921))
    for chat in chats:
        subscribe(store, chat, "ceasefire")
    async with running(store, api) as notifier:
        await until(lambda: any(c[0] == "getMe" for c in api.calls))
        api.down = True
        for i in range(3):
            make_alert(store, title=f"During {i}")
        await drain_all(store, notifier)
        await until(lambda: sum(c[0] == "sendMessage" for c in api.calls) >= 5)
        assert api.messages() == []
        api.down = False
        await until(lambda: len(api.messages()) == 60, timeout=30)
    for chat in chats:
        assert [t.splitlines()[0] for t in texts(api, chat)] == ["During 0", "During 1", "During 2"]
    assert api.breaches == []


async def test_digest_chats_get_one_message_per_period(store: EitherStore, api: BotApiStandIn) -> None:
    now = [datetime(2026, 11, 25, 12, 10, tzinfo=UTC)]
    subscribe(store, 1001, "ceasefire")
    subscribe(store, 1002, "ceasefire")
    store.set_digest("1001", "hourly")
    async with running(store, api, timezone="Asia/Yerevan") as notifier:
        notifier._clock = lambda: now[0]
        for i in range(3):
            make_alert(store, title=f"Digest item {i}")
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(1002)) == 3)
        assert api.messages(1001) == []  # held until the hour ends
        now[0] = datetime(2026, 11, 25, 13, 0, 1, tzinfo=UTC)
        notifier.wake()
        await until(lambda: len(api.messages(1001)) == 1)
    digest = texts(api, 1001)[0]
    assert digest.startswith("Digest: 3 alerts")
    assert [line for line in digest.splitlines() if "Digest item" in line] == [f"• Digest item {i}" for i in range(3)]
    assert store.telegram_stats(NOTIFIER).owed == 0


async def test_the_token_never_appears_in_logs(
    store: EitherStore, api: BotApiStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subscribe(store, 1101, "ceasefire")
    api.fail(1101, Fault("error", 500))
    make_alert(store, title="Secret-free")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(1101)) == 1)
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "sendMessage" in logged  # httpx and PTB did log the requests ...
    assert "[REDACTED]" in logged  # ... with the token taken out
    assert TOKEN not in logged
    assert TOKEN.split(":")[1] not in logged


def test_the_token_comes_from_the_environment_or_a_file_never_from_config(tmp_path: Path) -> None:
    assert load_token({"TELEGRAM_BOT_TOKEN": " abc:def \n"}) == "abc:def"
    secret = tmp_path / "token"
    secret.write_text("xyz:123\n")
    assert load_token({"TELEGRAM_BOT_TOKEN_FILE": str(secret)}) == "xyz:123"
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_token({})
    with pytest.raises(ConfigError, match="never from a config file"):
        NOTIFIER_KINDS["telegram"]("tg", {"token": "abc:def"}, open_store(tmp_path / "x.sqlite3"))


def test_the_telegram_kind_is_registered_and_reads_its_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    store = open_store(tmp_path / "x.sqlite3")
    try:
        notifier = NOTIFIER_KINDS["telegram"]("tg", {"admins": [1], "timezone": "Europe/Paris"}, store)
        assert isinstance(notifier, TelegramNotifier)
        assert notifier.options.admins == [1]
        with pytest.raises(ConfigError, match="timezone"):
            NOTIFIER_KINDS["telegram"]("tg", {"timezone": "Mars/Olympus"}, store)
    finally:
        store.close()


async def test_delivering_the_same_alert_twice_owes_it_once(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 1201, "ceasefire")
    subscribe(store, 1202, "ceasefire")
    alert = make_alert(store)
    notifier = notifier_for(store, api.base_url)
    await notifier.deliver(alert)  # e.g. a crash between fan-out and marking the outbox row delivered
    await notifier.deliver(alert)
    assert store.telegram_stats(NOTIFIER).owed == 2


def test_configured_channels_replace_the_previous_configuration(store: EitherStore) -> None:
    store.sync_channels([("@alpha", ["ceasefire"]), ("-100777", ["border"])], NOW)
    subscribe(store, 1301, "ceasefire")
    store.sync_channels([("@beta", ["ceasefire", "border"])], NOW)
    assert store.subscriptions("@alpha") == [] and store.subscriptions("-100777") == []
    assert store.subscriptions("@beta") == ["border", "ceasefire"]
    assert store.subscriptions("1301") == ["ceasefire"]  # users' own subscriptions stay


def sends(api: BotApiStandIn, marker: str) -> int:
    """sendMessage calls whose text carries `marker` (answered or not)."""
    return sum(1 for method, params in api.calls if method == "sendMessage" and marker in str(params.get("text")))


@pytest.mark.parametrize("kind", ["garbled", "odd_result"])
async def test_a_message_the_bot_api_accepted_is_delivered_once_though_its_answer_is_unreadable(
    store: EitherStore, api: BotApiStandIn, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    subscribe(store, 1401, "ceasefire")
    api.poison("Unreadable", Fault(kind))  # a 200 python-telegram-bot cannot parse, every time
    make_alert(store, title="Unreadable answer")
    make_alert(store, title="Next in line")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: any(t.startswith("Next in line") for t in texts(api, 1401)))
        await asyncio.sleep(1.2)  # over twice backoff_cap: a retry would have come by now
    assert [t.splitlines()[0] for t in texts(api, 1401)] == ["Unreadable answer", "Next in line"]
    assert sends(api, "Unreadable") == 1
    assert store.telegram_stats(NOTIFIER).owed == 0 and store.dead_letters(NOW - timedelta(days=1)) == 0
    assert "answer could not be read" in caplog.text


async def test_a_delivery_failing_while_the_bot_api_answers_is_dead_lettered_and_the_chat_moves_on(
    store: EitherStore, api: BotApiStandIn
) -> None:
    subscribe(store, 1501, "ceasefire")
    subscribe(store, 1502, "ceasefire")
    api.poison("Poison", Fault("error", 500), chat=1501)  # this message to this chat fails, always
    make_alert(store, title="Poison pill")
    make_alert(store, title="After the pill")
    told: list[str] = []
    # a long backoff: a failure that paused every chat (as in an outage) would hold 1502 for seconds
    async with running(store, api, max_attempts=3, backoff_base=0.4, backoff_cap=0.4) as notifier:
        notifier.on_dead_letter = told.append
        await drain_all(store, notifier)
        await until(lambda: len(texts(api, 1502)) == 2, timeout=1.5)  # the other chat is not held up
        await until(lambda: any(t.startswith("After the pill") for t in texts(api, 1501)), timeout=5)
    assert [t.splitlines()[0] for t in texts(api, 1501)] == ["After the pill"]
    assert sends(api, "Poison") == 4  # three to 1501, then given up; one to 1502
    assert store.dead_letters(datetime.now(UTC) - timedelta(minutes=1)) == 1
    assert store.telegram_stats(NOTIFIER).owed == 0
    assert len(told) == 1 and "Poison pill" in told[0] and "1501" in told[0] and "3 attempts" in told[0]
    assert TOKEN not in told[0]


async def test_an_outage_longer_than_max_attempts_dead_letters_nothing(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 1601, "ceasefire")
    async with running(store, api, max_attempts=2) as notifier:
        await until(lambda: any(c[0] == "getMe" for c in api.calls))
        api.down = True  # every method fails, getMe too: not the delivery's fault
        make_alert(store, title="Through the outage")
        await drain_all(store, notifier)
        await until(lambda: sends(api, "Through the outage") >= 4)
        api.down = False
        await until(lambda: len(texts(api, 1601)) == 1)
    assert store.dead_letters(NOW - timedelta(days=1)) == 0
    assert store.telegram_stats(NOTIFIER).owed == 0


async def test_text_with_angle_brackets_arrives_as_words(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 1301, "ceasefire")
    make_alert(store, title="Talks <in Geneva> resume", snippet="Envoys said <ceasefire holds> & talks go on.")
    async with running(store, api) as notifier:
        await drain_all(store, notifier)
        await until(lambda: len(api.messages(1301)) == 1)
    lines = texts(api, 1301)[0].splitlines()
    assert lines[0] == "Talks <in Geneva> resume"
    assert "Envoys said <ceasefire holds> & talks go on." in lines


async def test_a_database_made_before_filters_upgrades_and_keeps_its_subscribers(
    tmp_path: Path, api: BotApiStandIn
) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    apply_migrations(conn, "core", CORE_MIGRATIONS)
    apply_migrations(conn, "telegram", TELEGRAM_MIGRATIONS[:2])  # the schema before subscriber filters
    conn.execute("INSERT INTO tg_chats (chat, kind, created) VALUES ('1401', 'private', 0), ('1402', 'private', 0)")
    conn.execute("INSERT INTO tg_subscriptions VALUES ('1401', 'ceasefire', 0), ('1402', 'ceasefire', 0)")
    conn.close()
    store = SqliteStore(path)
    try:
        assert schema_version(store.conn, "telegram") == len(TELEGRAM_MIGRATIONS)
        assert store.subscriptions("1401") == ["ceasefire"] and store.filters("1401") == {}
        assert store.set_filter("1402", "ceasefire", "Karabakh")
        assert not store.set_filter("1402", "border", "Karabakh")  # not followed: nothing to narrow
        make_alert(store, title="Truce holds")
        make_alert(store, title="Karabakh truce holds")
        async with running(store, api) as notifier:
            await drain_all(store, notifier)
            await until(lambda: len(api.messages(1401)) == 2 and len(api.messages(1402)) == 1)
    finally:
        store.close()
    assert texts(api, 1402)[0].startswith("Karabakh truce holds")


async def test_a_dead_letter_owed_again_by_redeliver_arrives_once(store: EitherStore, api: BotApiStandIn) -> None:
    subscribe(store, 1511, "ceasefire")
    api.fail(1511, *[Fault("error", 500)] * 3)  # three failures: given up on (max_attempts 3)
    make_alert(store, title="Given up on")
    recently = datetime.now(UTC) - timedelta(minutes=1)
    async with running(store, api, max_attempts=3, backoff_base=0.05, backoff_cap=0.05) as notifier:
        await drain_all(store, notifier)
        await until(lambda: store.dead_letters(recently) == 1, timeout=5)
        assert store.redeliver(recently, "another-notifier") == (0, 0)
        assert store.redeliver(recently) == (0, 1)  # the outbox row was delivered (fanned out); the chat's is owed
        notifier.wake()  # its sender looks again within a minute on its own; not worth waiting for here
        await until(lambda: any(t.startswith("Given up on") for t in texts(api, 1511)), timeout=5)
        await drain_all(store, notifier)
    assert [t.splitlines()[0] for t in texts(api, 1511)] == ["Given up on"]  # once, after the three failures
    assert store.dead_letters(recently) == 0 and store.telegram_stats(NOTIFIER).owed == 0
