"""Subscriber and operator commands of the bot; each reads or writes subscriptions in the store."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, cast
from zoneinfo import ZoneInfo

from telegram import Chat as TgChat
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from monitor.durations import seconds
from monitor.notify.telegram_format import format_digest, when
from monitor.store.telegram import DigestMode, TelegramStore

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
MAX_RECENT = 20
MAX_MUTE = timedelta(days=30)
_GROUPS = (TgChat.GROUP, TgChat.SUPERGROUP)
_CHAT_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

HELP = """<b>Ceasefire monitor</b> sends an alert when a news source reports on a watch list you follow.

/subscribe [list] — follow a watch list (no argument: pick from a menu)
/unsubscribe [list] — stop following one
/list — what this chat follows
/recent [n] — the last n alerts of your watch lists (default 5)
/mute &lt;duration&gt; — pause alerts, e.g. /mute 2h or /mute 1d
/unmute — resume alerts
/digest off|hourly|daily — one message per period instead of one per alert"""

ADMIN_HELP = "\n\nOperators: /status /sources /stats /reload"


@dataclass(frozen=True)
class AdminHooks:
    """What the service lends the operator commands: plain-text reports and a config reload."""

    status: Callable[[], str]
    sources: Callable[[], str]
    reload: Callable[[], Awaitable[str]]


def parse_duration(text: str) -> timedelta | None:
    """/mute's duration: '90m', '2h', '1h30m', '1d', '1w' (monitor.durations), but a bare number is minutes;
    None when unreadable."""
    text = text.strip()
    try:
        return timedelta(minutes=float(text)) if text.isdigit() else timedelta(seconds=seconds(text))
    except (ValueError, OverflowError):
        return None


class BotHandlers:
    """The command handlers, bound to a store, the watch lists, the operators and the service hooks."""

    def __init__(
        self,
        store: TelegramStore,
        notifier: str,
        watchlists: Callable[[], Mapping[str, str]],
        admins: frozenset[int],
        hooks: AdminHooks,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.watchlists = watchlists
        self.admins = admins
        self.hooks = hooks
        self.zone = zone
        self.clock = clock

    # plumbing

    def _chat(self, update: Update) -> str:
        chat = cast(TgChat, update.effective_chat)
        self.store.register_chat(str(chat.id), chat.type, chat.title or chat.full_name or "", self.clock())
        return str(chat.id)

    async def _reply(self, update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        message = update.effective_message
        if message is not None:
            await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False)

    def _is_operator(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.admins

    async def _may_manage(self, update: Update, context: Context) -> bool:
        """In a group, only its admins (and operators) may change what it receives."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type not in _GROUPS or user.id in self.admins:
            return chat is not None
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("cannot check membership of user %s in chat %s: %s", user.id, chat.id, exc)
            return False
        return member.status in _CHAT_ADMINS

    async def _refuse_member(self, update: Update) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("Only this group's admins can change its alerts.")
        else:
            await self._reply(update, "Only this group's admins can change its alerts.")

    # subscriber commands

    async def start(self, update: Update, context: Context) -> None:
        self._chat(update)
        extra = ADMIN_HELP if self._is_operator(update) else ""
        await self._reply(update, "Hello! " + HELP + extra)

    async def help(self, update: Update, context: Context) -> None:
        extra = ADMIN_HELP if self._is_operator(update) else ""
        await self._reply(update, HELP + extra)

    def _keyboard(self, action: str, names: list[str]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton(n, callback_data=f"{action}:{n}")] for n in names])

    def _menu(self, names: list[str]) -> str:
        lists = self.watchlists()
        return "\n".join(f"<b>{escape(n)}</b> — {escape(lists.get(n, ''))}" for n in names)

    async def subscribe(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        if context.args:
            return await self._reply(update, self._apply("sub", chat, " ".join(context.args)))
        names = [n for n in sorted(self.watchlists()) if n not in self.store.subscriptions(chat)]
        if not names:
            return await self._reply(update, "This chat already follows every watch list.")
        await self._reply(update, "Pick a watch list to follow:\n\n" + self._menu(names), self._keyboard("sub", names))

    async def unsubscribe(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        if context.args:
            return await self._reply(update, self._apply("unsub", chat, " ".join(context.args)))
        names = self.store.subscriptions(chat)
        if not names:
            return await self._reply(update, "This chat follows no watch list. /subscribe to pick one.")
        await self._reply(update, "Pick a watch list to stop following:", self._keyboard("unsub", names))

    def _apply(self, action: str, chat: str, name: str) -> str:
        """Subscribe or unsubscribe `chat`; the answer to show."""
        if action == "sub":
            if name not in self.watchlists():
                return f"There is no watch list called <b>{escape(name)}</b>. /subscribe shows them all."
            new = self.store.subscribe(chat, name, self.clock())
            return f"{'Subscribed to' if new else 'Already following'} <b>{escape(name)}</b>."
        gone = self.store.unsubscribe(chat, name)
        return f"{'Unsubscribed from' if gone else 'This chat does not follow'} <b>{escape(name)}</b>."

    async def button(self, update: Update, context: Context) -> None:
        """A press on a /subscribe or /unsubscribe keyboard."""
        query = update.callback_query
        if query is None or not query.data:
            return
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        action, _, name = query.data.partition(":")
        text = self._apply(action, self._chat(update), name)
        await query.answer(re.sub(r"<[^>]+>", "", text))
        await self._reply(update, text)

    async def list(self, update: Update, context: Context) -> None:
        chat = self.store.chat(self._chat(update))
        names = self.store.subscriptions(chat.chat) if chat else []
        lines = [f"• <b>{escape(n)}</b>" for n in names] or ["No watch lists yet: /subscribe to pick one."]
        if chat is not None and chat.muted(self.clock()):
            lines.append(f"\nMuted until {when(chat.muted_until, self.zone)}.")
        if chat is not None and chat.digest != "off":
            lines.append(f"\nDigest: {chat.digest}.")
        await self._reply(update, "This chat follows:\n" + "\n".join(lines))

    async def recent(self, update: Update, context: Context) -> None:
        chat = self._chat(update)
        count = 5
        if context.args:
            if not context.args[0].isdigit():
                return await self._reply(update, "Usage: /recent [n], e.g. /recent 10")
            count = max(1, min(MAX_RECENT, int(context.args[0])))
        names = self.store.subscriptions(chat)
        if not names:
            return await self._reply(update, "This chat follows no watch list. /subscribe to pick one.")
        alerts = self.store.recent_alerts(count, names)
        if not alerts:
            return await self._reply(update, "No alerts yet for your watch lists.")
        await self._reply(update, format_digest(alerts, self.zone, title="Recent")[0])

    async def mute(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        duration = parse_duration(" ".join(context.args or []))
        if not duration:
            return await self._reply(update, "Usage: /mute &lt;duration&gt;, e.g. /mute 30m, /mute 2h, /mute 1d")
        until = self.clock() + min(duration, MAX_MUTE)
        self.store.set_muted(chat, until)
        await self._reply(update, f"Muted until {when(until, self.zone)}. /unmute to resume earlier.")

    async def unmute(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        self.store.set_muted(self._chat(update), None)
        await self._reply(update, "Alerts resumed.")

    async def digest(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        mode = (context.args or [""])[0].lower()
        if mode not in ("off", "hourly", "daily"):
            return await self._reply(update, "Usage: /digest off|hourly|daily")
        self.store.set_digest(chat, cast(DigestMode, mode))
        text = "One message per alert." if mode == "off" else f"One {mode} digest instead of one message per alert."
        await self._reply(update, text)

    # operator commands

    async def _operator(self, update: Update, command: str) -> bool:
        if self._is_operator(update):
            return True
        user = update.effective_user
        log.warning("refused /%s from user %s in chat %s", command, user and user.id, self._chat(update))
        await self._reply(update, "Sorry, this command is only for the operators of this bot.")
        return False

    async def status(self, update: Update, context: Context) -> None:
        if await self._operator(update, "status"):
            owed = self.store.telegram_stats(self.notifier).owed
            await self._reply(update, f"<pre>{escape(self.hooks.status())}\ntelegram deliveries owed: {owed}</pre>")

    async def sources(self, update: Update, context: Context) -> None:
        if await self._operator(update, "sources"):
            await self._reply(update, f"<pre>{escape(self.hooks.sources())}</pre>")

    async def stats(self, update: Update, context: Context) -> None:
        if await self._operator(update, "stats"):
            await self._reply(update, f"<pre>{escape(self._stats_text())}</pre>")

    def _stats_text(self) -> str:
        tg = self.store.telegram_stats(self.notifier)
        per_list = self.store.stats_since(self.clock() - timedelta(hours=24))
        lines = ["subscribers (active chats):"]
        lines += [f"  {kind}: {n}" for kind, n in sorted(tg.chats.items())] or ["  none"]
        lines.append(f"  inactive: {tg.inactive}")
        lines.append("subscribers per watch list:")
        lines += [f"  {name}: {n}" for name, n in tg.subscriptions.items()] or ["  none"]
        lines.append("alerts in the last 24 h:")
        lines += [f"  {name}: {n}" for name, n in sorted(per_list.items())] or ["  none"]
        lines.append(f"deliveries owed: {tg.owed}")
        return "\n".join(lines)

    async def reload(self, update: Update, context: Context) -> None:
        if await self._operator(update, "reload"):
            log.info("config reload asked by user %s", update.effective_user and update.effective_user.id)
            await self._reply(update, escape(await self.hooks.reload()))

    def commands(self) -> dict[str, Callable[[Update, Context], Coroutine[Any, Any, None]]]:
        """Command name -> handler."""
        return {
            "start": self.start,
            "help": self.help,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "list": self.list,
            "recent": self.recent,
            "mute": self.mute,
            "unmute": self.unmute,
            "digest": self.digest,
            "status": self.status,
            "sources": self.sources,
            "stats": self.stats,
            "reload": self.reload,
        }
