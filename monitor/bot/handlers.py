"""Subscriber and operator commands of the bot; each reads or writes subscriptions in the store."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
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
from monitor.errors import QuerySyntaxError
from monitor.notify.telegram_api import call_accepted
from monitor.notify.telegram_filter import admission, check_filter
from monitor.notify.telegram_format import format_digest, when
from monitor.store.telegram import DigestMode, TelegramStore

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
MAX_RECENT = 20
RECENT_SCAN = 100  # newest alerts /recent reads through for the ones a chat's filters admit
MAX_MUTE = timedelta(days=30)
FILTER_USAGE = "Usage: /filter &lt;watch list&gt; &lt;query&gt;, /filter &lt;watch list&gt; off, or /filter off"
_GROUPS = (TgChat.GROUP, TgChat.SUPERGROUP)
_CHAT_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

HELP = """<b>Ceasefire monitor</b> sends an alert when a news source reports on a watch list you follow.

/subscribe [list] [query] — follow a watch list (no argument: pick from a menu); with a query, only its \
alerts whose article also matches it, e.g. /subscribe ceasefire Karabakh
/filter list query|off — narrow a watch list you follow to a query (words, "phrases", AND, OR, NOT, NEAR/5, \
title:, as in watch lists), or follow all of it again; /filter off clears every filter
/unsubscribe [list] — stop following one
/list — what this chat follows
/recent [n] — the last n alerts of your watch lists, as your filters narrow them (default 5)
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
    except OverflowError:  # longer than any mute lasts
        return timedelta.max
    except ValueError:
        return None


def find_name(name: str, names: Iterable[str]) -> str | None:
    """The one of `names` that `name` means: itself, else the first equal to it ignoring case."""
    names = list(names)
    if name in names:
        return name
    return next((n for n in names if n.casefold() == name.casefold()), None)


def _code(query: str) -> str:
    return f"<code>{escape(query)}</code>"


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
            reply = message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False)
            await call_accepted(reply, f"bot: the reply to chat {message.chat_id}", log)

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
            return await self._reply(update, self._subscribe(chat, context.args[0], " ".join(context.args[1:])))
        names = [n for n in sorted(self.watchlists()) if n not in self.store.subscriptions(chat)]
        if not names:
            return await self._reply(update, "This chat already follows every watch list.")
        await self._reply(update, "Pick a watch list to follow:\n\n" + self._menu(names), self._keyboard("sub", names))

    async def unsubscribe(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        if context.args:
            return await self._reply(update, self._unsubscribe(chat, " ".join(context.args)))
        names = self.store.subscriptions(chat)
        if not names:
            return await self._reply(update, "This chat follows no watch list. /subscribe to pick one.")
        await self._reply(update, "Pick a watch list to stop following:", self._keyboard("unsub", names))

    def _subscribe(self, chat: str, name: str, query: str = "") -> str:
        """Subscribe `chat` (with a filter when `query` is given); the answer to show."""
        found = find_name(name, self.watchlists())
        if found is None:
            return f"There is no watch list called <b>{escape(name)}</b>. /subscribe shows them all."
        try:
            wanted = read_filter(query) if query else None
        except (QuerySyntaxError, ValueError) as exc:
            return _unreadable(exc)
        new = self.store.subscribe(chat, found, self.clock())
        text = f"{'Subscribed to' if new else 'Already following'} <b>{escape(found)}</b>."
        return f"{text} {self._set_filter(chat, found, wanted)}" if query else text

    def _unsubscribe(self, chat: str, name: str) -> str:
        found = find_name(name, [*self.store.subscriptions(chat), *self.watchlists()]) or name
        gone = self.store.unsubscribe(chat, found)
        return f"{'Unsubscribed from' if gone else 'This chat does not follow'} <b>{escape(found)}</b>."

    def _set_filter(self, chat: str, name: str, wanted: str | None) -> str:
        """Set (or, None, clear) the filter of a subscription; the answer to show."""
        self.store.set_filter(chat, name, wanted)
        if wanted is None:
            return f"<b>{escape(name)}</b>: every alert, no filter."
        return f"<b>{escape(name)}</b>: only alerts whose article also matches {_code(wanted)}."

    async def button(self, update: Update, context: Context) -> None:
        """A press on a /subscribe or /unsubscribe keyboard."""
        query = update.callback_query
        if query is None or not query.data:
            return
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        action, _, name = query.data.partition(":")
        text = (self._subscribe if action == "sub" else self._unsubscribe)(self._chat(update), name)
        await query.answer(re.sub(r"<[^>]+>", "", text))
        await self._reply(update, text)

    async def filter(self, update: Update, context: Context) -> None:
        if not await self._may_manage(update, context):
            return await self._refuse_member(update)
        chat = self._chat(update)
        args = context.args or []
        if len(args) == 1 and args[0].lower() == "off":
            cleared = [n for n in self.store.filters(chat) if self.store.set_filter(chat, n, None)]
            names = ", ".join(f"<b>{escape(n)}</b>" for n in cleared)
            return await self._reply(update, f"Filters cleared: {names}." if cleared else "This chat has no filter.")
        if len(args) < 2:
            return await self._reply(update, FILTER_USAGE)
        name = find_name(args[0], self.store.subscriptions(chat))
        if name is None:
            return await self._reply(update, f"This chat does not follow <b>{escape(args[0])}</b>. /list shows what"
                                             " it follows; /subscribe &lt;watch list&gt; &lt;query&gt; adds one.")
        try:
            wanted = read_filter(" ".join(args[1:]))
        except (QuerySyntaxError, ValueError) as exc:
            return await self._reply(update, _unreadable(exc))
        await self._reply(update, self._set_filter(chat, name, wanted))

    async def list(self, update: Update, context: Context) -> None:
        chat = self.store.chat(self._chat(update))
        names = self.store.subscriptions(chat.chat) if chat else []
        filters = self.store.filters(chat.chat) if chat else {}
        lines = [f"• <b>{escape(n)}</b>" + (f" — only {_code(filters[n])}" if n in filters else "") for n in names]
        lines = lines or ["No watch lists yet: /subscribe to pick one."]
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
        filters = self.store.filters(chat)
        alerts = [
            alert
            for alert in self.store.recent_alerts(RECENT_SCAN if filters else count, names)
            if alert.watchlist not in filters or admission(self.store, alert)(filters[alert.watchlist])
        ][:count]
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
        capped = f" ({MAX_MUTE.days} days, the longest a mute lasts)" if duration > MAX_MUTE else ""
        await self._reply(update, f"Muted until {when(until, self.zone)}{capped}. /unmute to resume earlier.")

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
            "filter": self.filter,
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


def read_filter(query: str) -> str | None:
    """The filter a subscriber asks for: None for 'off', else the query checked (see `check_filter`, which raises)."""
    return None if query.lower() == "off" else check_filter(query)


def _unreadable(exc: Exception) -> str:
    return (f"That filter cannot be read: {escape(str(exc))}. Filters are written like watch-list queries,"
            " e.g. <code>Karabakh OR Artsakh</code>, <code>\"Red Sea\" NOT Houthi*</code>.")
