"""The Telegram bot: python-telegram-bot handlers for subscribers and operators, in the service's loop.

The service builds the application from the running telegram notifier (same token, Bot API base
URL and rate limiter, so replies and alerts share Telegram's limits) and runs `run_bot(app)` as a
task; cancelling the task stops polling and shuts the application down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from monitor.bot.handlers import AdminHooks, BotHandlers
from monitor.notify import Notifier
from monitor.notify.telegram import TelegramNotifier
from monitor.notify.telegram_api import make_request
from monitor.notify.telegram_rate import SharedRateLimiter
from monitor.retry import retry_forever, supervise

__all__ = ["AdminHooks", "BotHandlers", "build_application", "run_bot", "start_bot"]

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 5.0  # the bot's share of the service's 10 s shutdown

BotApp = Application[Any, Any, Any, Any, Any, Any]

PUBLIC_COMMANDS = [
    BotCommand("subscribe", "Follow a watch list"),
    BotCommand("filter", "Narrow a watch list to your own query"),
    BotCommand("unsubscribe", "Stop following a watch list"),
    BotCommand("list", "What this chat follows"),
    BotCommand("recent", "The last alerts of your watch lists"),
    BotCommand("mute", "Pause alerts for a while"),
    BotCommand("unmute", "Resume alerts"),
    BotCommand("digest", "One message per hour or day"),
    BotCommand("help", "What the bot can do"),
]


def build_application(
    notifier: TelegramNotifier,
    watchlists: Mapping[str, str] | Callable[[], Mapping[str, str]],
    hooks: AdminHooks,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BotApp:
    """The bot for a running telegram notifier.

    `watchlists` maps watch-list names to descriptions (or is a callable returning that, so a reload
    shows at once); `hooks` supply /status, /sources and /reload.
    """
    options = notifier.options
    handlers = BotHandlers(
        notifier.store,
        notifier.name,
        watchlists if callable(watchlists) else (lambda: watchlists),
        frozenset(options.admins),
        hooks,
        options.zone,
        clock,
    )
    app: BotApp = (
        ApplicationBuilder()
        .token(notifier.token)
        .base_url(options.base_url)
        .request(make_request(options))
        .get_updates_request(make_request(options, read_timeout=options.poll_timeout + options.timeout))
        .rate_limiter(SharedRateLimiter(notifier.limiter))
        .build()
    )
    for name, handler in handlers.commands().items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(CallbackQueryHandler(handlers.button, pattern=r"^(sub|unsub):"))
    app.add_error_handler(_log_error)
    return app


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("bot handler failed: %s", context.error, exc_info=context.error)


async def run_bot(
    app: BotApp, *, poll_timeout: float = 10.0, backoff_base: float = 2.0, backoff_cap: float = 300.0
) -> None:
    """Poll for updates and answer commands until cancelled; then stop polling and shut down."""
    await retry_forever(app.initialize, TelegramError, "bot: cannot reach the Bot API", log, backoff_base, backoff_cap)
    try:
        await app.start()
        try:
            await app.bot.set_my_commands(PUBLIC_COMMANDS)
        except TelegramError as exc:
            log.warning("bot: cannot set the command menu: %s", exc)
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=timedelta(seconds=poll_timeout), allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY]
        )
        await asyncio.Event().wait()
    finally:
        try:  # a Bot API that stops answering must not hold up the service's shutdown
            async with asyncio.timeout(SHUTDOWN_SECONDS):
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()
                await app.shutdown()
        except TimeoutError:
            log.warning("bot: shutdown took over %.0fs; abandoned", SHUTDOWN_SECONDS)


def start_bot(
    notifiers: Sequence[Notifier],
    watchlists: Mapping[str, str] | Callable[[], Mapping[str, str]],
    hooks: AdminHooks,
) -> asyncio.Task[None] | None:
    """Run the bot of the first telegram notifier as a task (cancel it to stop); None without one. A bot that
    dies of an error is logged and started again, on a new application."""
    notifier = next((n for n in notifiers if isinstance(n, TelegramNotifier)), None)
    if notifier is None:
        return None
    options = notifier.options

    async def bot() -> None:
        await run_bot(build_application(notifier, watchlists, hooks), poll_timeout=options.poll_timeout,
                      backoff_base=options.backoff_base, backoff_cap=options.backoff_cap)

    return asyncio.create_task(supervise(f"telegram bot {notifier.name}", bot), name=f"telegram-bot-{notifier.name}")


def admin_notice(notifiers: Sequence[Notifier]) -> Callable[[str], None] | None:
    """A best-effort way to tell the admins of the first telegram notifier something (not via the outbox)."""
    notifier = next((n for n in notifiers if isinstance(n, TelegramNotifier)), None)
    if notifier is None or not notifier.options.admins:
        return None
    pending: set[asyncio.Task[object]] = set()

    def tell(text: str) -> None:
        for admin in notifier.options.admins:
            task: asyncio.Task[object] = asyncio.create_task(notifier.bot.send_message(admin, text[:4000]))
            pending.add(task)
            task.add_done_callback(_forget(pending))

    return tell


def _forget(pending: set[asyncio.Task[object]]) -> Callable[[asyncio.Task[object]], None]:
    def done(task: asyncio.Task[object]) -> None:
        pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("admin notice not sent: %s", task.exception())

    return done
