"""Shared pieces of the Telegram tests and the fan-out benchmark: a real store, alerts through the outbox."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from monitor.notify import Notifier, drain
from monitor.notify.telegram import TelegramNotifier
from monitor.notify.telegram_options import parse_options
from monitor.records import Alert, Article, Match
from monitor.store.sqlite import SqliteStore
from monitor.store.telegram import Chat
from tests.botapi import BotApiStandIn, Limits

if TYPE_CHECKING:
    from monitor.store.postgres import PostgresStore

# The stores the Telegram tests run on: both a Store and a TelegramStore (SQLite; PostgreSQL where psycopg is).
EitherStore: TypeAlias = "SqliteStore | PostgresStore"

TOKEN = "123456789:AAH-test-token-do-not-log-000000000"
NOTIFIER = "tg"

_counter = itertools.count(1)

N = TypeVar("N", bound=Notifier)


@contextmanager
def stand_in(chat_interval: float = 0.1) -> Iterator[BotApiStandIn]:
    """The Bot API stand-in on loopback with quick test limits (30/s, `chat_interval` s per chat, 20/min a group)."""
    server = BotApiStandIn(TOKEN, Limits(per_second=30, chat_interval=chat_interval, group_per_minute=20))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def open_store(path: Path) -> EitherStore:
    """A SqliteStore that keeps Telegram subscribers (tests.postgres.store_on_postgres swaps in a PostgresStore)."""
    return SqliteStore(path)


def make_alert(
    store: EitherStore,
    watchlist: str = "ceasefire",
    *,
    title: str | None = None,
    snippet: str = "Both sides agreed to a ceasefire on Tuesday.",
    body: str | None = None,
    terms: Sequence[str] = ("ceasefire",),
    source: str = "outlet",
    notifiers: Sequence[str] = (NOTIFIER,),
) -> Alert:
    """Record an article matching `watchlist` the real way (save_article); return its alert. The article's text
    is `body`, by default the snippet."""
    n = next(_counter)
    article = Article(url=f"https://news.example/{n}", source=source, title=title or f"Story {n}", body=body or snippet)
    match = Match(watchlist=watchlist, query="ceasefire", terms=tuple(terms), snippet=snippet)
    alerts = store.save_article(article, fingerprint=n, kind="new", matches=[match], notifiers=list(notifiers))
    assert len(alerts) == 1
    return alerts[0]


def chat_of(store: EitherStore, chat: str) -> Chat:
    """The store's record of `chat`, which the test expects it to have."""
    found = store.chat(chat)
    assert found is not None, f"chat {chat} is not in the store"
    return found


def notifier_for(store: EitherStore, base_url: str, **options: Any) -> TelegramNotifier:
    opts = {
        "base_url": base_url,
        "timeout": 2.0,
        "backoff_base": 0.2,
        "backoff_cap": 0.5,
        "poll_timeout": 0.5,
        **options,
    }
    return TelegramNotifier(NOTIFIER, parse_options(NOTIFIER, opts), store, TOKEN)


def telegram_config(api: BotApiStandIn, **options: Any) -> dict[str, Any]:
    """A config's `telegram` notifier against the stand-in `api`, with the quick limits of `stand_in`."""
    return {"name": "telegram", "kind": "telegram", "base_url": api.base_url, "poll_timeout": 0.5,
            "rate": {"per_second": 30, "chat_interval": 0.1, "group_per_minute": 20}, **options}


@asynccontextmanager
async def started(notifier: N) -> AsyncIterator[N]:
    """`notifier` started for the `async with` block and stopped after it, however the block ends."""
    await notifier.start()
    try:
        yield notifier
    finally:
        await notifier.stop()


async def drain_all(store: EitherStore, notifier: TelegramNotifier) -> int:
    """Move everything owed to the notifier from the outbox to its per-chat deliveries."""
    total = 0
    while moved := await drain(store, notifier, limit=1000):
        total += moved
    return total


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait (without blocking the loop) until `predicate()` holds; fail the test after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
