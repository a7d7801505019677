"""A Telegram Bot API stand-in: an HTTP server on 127.0.0.1 for python-telegram-bot's `base_url`.

It serves what the bot calls (getMe, getUpdates, sendMessage, answerCallbackQuery, getChatMember,
setMyCommands, deleteWebhook, ...), lets tests inject messages and button presses as updates,
records every message it accepted, can be told to fail (429 + retry_after, 403, 400 "chat not
found", 400 with migrate_to_chat_id, 5xx, or hang) or to accept a message and answer 200 with a body
the client cannot read (once, or for every message carrying a marker), validates the HTML of messages the way
Telegram does, and records every breach of the sending limits (overall per second, per chat, per
group per minute, and sending before a retry_after ran out).
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_ID = 777000
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "blockquote"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)([^<>]*)>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|[<>&]")


class HtmlError(ValueError):
    pass


def parse_html(text: str) -> str:
    """The visible text of a Telegram HTML message; HtmlError where Telegram would refuse it."""
    stack: list[str] = []
    visible: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        visible.append(text[last : m.start()])
        last = m.end()
        token = m.group(0)
        if token in "<>&":
            raise HtmlError(f"can't parse entities: unexpected {token!r} at byte offset {m.start()}")
        if token.startswith("&"):
            visible.append(unescape(token))
            continue
        closing, tag = m.group(1), m.group(2).lower()
        if tag not in ALLOWED_TAGS:
            raise HtmlError(f"can't parse entities: unsupported start tag {tag!r}")
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise HtmlError(f"can't parse entities: can't find end tag corresponding to {tag!r}")
    if stack:
        raise HtmlError(f"can't parse entities: unclosed tag {stack[-1]!r}")
    visible.append(text[last:])
    return "".join(visible)


@dataclass(frozen=True)
class Limits:
    per_second: int = 30
    chat_interval: float = 1.0
    group_per_minute: int = 20


@dataclass(frozen=True)
class Fault:
    """One scripted failure: kind is retry_after, forbidden, not_found, migrate, error (5xx), hang, bad_request,
    or one that accepts the message and answers 200 with a body python-telegram-bot cannot read: garbled (not
    JSON) or odd_result (a result that is not a Message, as from a Bot API server of another version)."""

    kind: str
    value: float = 0


@dataclass
class Sent:
    chat_id: int | str
    html: str
    text: str  # visible text
    at: float  # server clock
    message_id: int
    params: dict[str, Any] = field(default_factory=dict)


def _is_group(chat: int | str) -> bool:
    return str(chat).startswith(("-", "@"))


def _chat_id(value: Any) -> int | str:
    text = str(value)
    return text if text.startswith("@") else int(text)


class BotApiStandIn:
    """Start with `start()` (returns the base_url), stop with `stop()`. Thread-safe."""

    def __init__(self, token: str, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.limits = limits or Limits()
        self.clock = clock
        self.lock = threading.Condition()
        self.sent: list[Sent] = []
        self.breaches: list[str] = []
        self.refused: list[tuple[int | str, str]] = []  # (chat, description) of messages answered with an error
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.members: dict[tuple[int, int], str] = {}
        self.down = False  # every method answers 502 while True
        self.garbled_get_me = 0  # this many getMe calls answer 200 with a user that is not one (a broken proxy, say)
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._poison: list[tuple[str, str, Fault]] = []  # (marker, chat or '*', fault) answered every time
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._overall: deque[float] = deque()
        self._per_chat: dict[str, float] = {}
        self._groups: defaultdict[str, deque[float]] = defaultdict(deque)
        self._held: dict[str, float] = {}
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # lifecycle

    def start(self) -> str:
        stand_in = self

        class Handler(_Handler):
            api = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def stop(self) -> None:
        self._release.set()
        with self.lock:
            self.lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # scripting

    def fail(self, chat: int | str, *faults: Fault) -> None:
        """The next sendMessage calls to `chat` answer with these faults, in order (chat '*': any chat)."""
        with self.lock:
            self._faults[str(chat)].extend(faults)

    def poison(self, marker: str, fault: Fault, chat: int | str = "*") -> None:
        """Every sendMessage to `chat` (default: any) whose text contains `marker` answers with `fault`."""
        with self.lock:
            self._poison.append((marker, str(chat), fault))

    def set_member(self, chat: int, user: int, status: str) -> None:
        with self.lock:
            self.members[(chat, user)] = status

    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self.lock.notify_all()
        return update

    def command(self, chat: int, text: str, user: int | None = None, chat_type: str = "private") -> dict[str, Any]:
        """Inject a message (e.g. '/subscribe ceasefire') from `user` (default: the chat) in `chat`."""
        user = chat if user is None else user
        command = text.split()[0] if text.startswith("/") else ""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat_json(chat, chat_type),
            "from": {"id": user, "is_bot": False, "first_name": f"user{user}"},
            "text": text,
        }
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push({"message": message})

    def press(self, chat: int, data: str, user: int | None = None, chat_type: str = "private") -> dict[str, Any]:
        """Inject a press on an inline keyboard button carrying `data`."""
        user = chat if user is None else user
        query_id = f"cq{next(self._message_ids)}"
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat_json(chat, chat_type),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "bot"},
            "text": "menu",
        }
        return self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user, "is_bot": False, "first_name": f"user{user}"},
                    "chat_instance": str(chat),
                    "data": data,
                    "message": message,
                }
            }
        )

    # reading

    def messages(self, chat: int | str | None = None) -> list[Sent]:
        with self.lock:
            return [m for m in self.sent if chat is None or str(m.chat_id) == str(chat)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate()` holds (re-checked whenever a request arrives) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.05))
        return True

    def stats(self) -> dict[str, Any]:
        """Totals for benchmarks: messages, distinct chats, duplicates, breaches, first and last arrival."""
        with self.lock:
            keys = [(str(m.chat_id), m.html) for m in self.sent]
            times = [m.at for m in self.sent]
            return {
                "sent": len(self.sent),
                "chats": len({k[0] for k in keys}),
                "duplicates": len(keys) - len(set(keys)),
                "breaches": list(self.breaches),
                "first": min(times, default=None),
                "last": max(times, default=None),
            }

    # the API

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        if method == "getUpdates":
            return self._get_updates(params)
        with self.lock:
            self.calls.append((method, params))
            self.lock.notify_all()
            if self.down:
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            if method == "sendMessage":
                return self._send_message(params)
            return self._simple(method, params)

    def _simple(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            if self.garbled_get_me:
                self.garbled_get_me -= 1
                return 200, _ok({"id": BOT_ID})
            return 200, _ok({"id": BOT_ID, "is_bot": True, "first_name": "Monitor", "username": "monitor_bot"})
        if method == "answerCallbackQuery":
            self.callback_answers.append(params)
            return 200, _ok(True)
        if method == "getChatMember":
            chat, user = int(params["chat_id"]), int(params["user_id"])
            status = self.members.get((chat, user), "member")
            user_json = {"id": user, "is_bot": False, "first_name": f"user{user}"}
            member: dict[str, Any] = {"status": status, "user": user_json}
            if status == "administrator":
                member.update(_ADMIN_RIGHTS)
            return 200, _ok(member)
        if method in {"setMyCommands", "deleteWebhook", "close", "logOut", "setWebhook"}:
            return 200, _ok(True)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        with self.lock:
            if self.down:
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._release.is_set() and time.monotonic() < deadline:
                self.lock.wait(deadline - time.monotonic())
            return 200, _ok(list(self._updates))

    def _check_limits(self, chat: str, now: float) -> None:
        lim = self.limits
        while self._overall and self._overall[0] <= now - 1.0:
            self._overall.popleft()
        if len(self._overall) >= lim.per_second:
            self.breaches.append(f"over {lim.per_second}/s overall at chat {chat}")
        if chat in self._per_chat and now - self._per_chat[chat] < lim.chat_interval:
            self.breaches.append(f"chat {chat}: {now - self._per_chat[chat]:.3f}s after the previous message")
        if now < self._held.get(chat, now):
            self.breaches.append(f"chat {chat}: sent {self._held[chat] - now:.3f}s before retry_after ran out")
        if _is_group(chat):
            group = self._groups[chat]
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= lim.group_per_minute:
                self.breaches.append(f"group {chat}: over {lim.group_per_minute}/min")
            group.append(now)
        self._overall.append(now)
        self._per_chat[chat] = now

    def _next_fault(self, chat: str, text: str) -> Fault | None:
        for key in (chat, "*"):
            if self._faults[key]:
                return self._faults[key].popleft()
        return next((f for marker, c, f in self._poison if marker in text and c in (chat, "*")), None)

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        chat = str(params["chat_id"])
        now = self.clock()
        self._check_limits(chat, now)
        fault = self._next_fault(chat, str(params.get("text", "")))
        if fault is not None and fault.kind not in _ACCEPTING:
            return self._fault(chat, fault, now)
        try:
            visible = parse_html(params["text"]) if params.get("parse_mode") == "HTML" else params["text"]
        except HtmlError as exc:
            return self._refuse(chat, 400, f"Bad Request: {exc}")
        if len(visible) > 4096:
            return self._refuse(chat, 400, "Bad Request: message is too long")
        sent = Sent(_chat_id(chat), params["text"], visible, now, next(self._message_ids), params)
        self.sent.append(sent)
        if fault is not None and fault.kind == "garbled":
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        if fault is not None:  # odd_result: a reply from another Bot API version
            return 200, _ok({"message_id": sent.message_id})
        message = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": _chat_json(sent.chat_id, "channel" if chat.startswith("@") else None),
            "text": visible,
        }
        return 200, _ok(message)

    def _refuse(self, chat: str, code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
        self.refused.append((_chat_id(chat), description))
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, body

    def _fault(self, chat: str, fault: Fault, now: float) -> tuple[int, dict[str, Any]]:
        if fault.kind == "retry_after":
            self._held[chat] = now + fault.value
            return self._refuse(
                chat, 429, f"Too Many Requests: retry after {int(fault.value)}", retry_after=int(fault.value)
            )
        if fault.kind == "forbidden":
            return self._refuse(chat, 403, "Forbidden: bot was blocked by the user")
        if fault.kind == "not_found":
            return self._refuse(chat, 400, "Bad Request: chat not found")
        if fault.kind == "bad_request":
            return self._refuse(chat, 400, "Bad Request: message text is empty")
        if fault.kind == "migrate":
            return self._refuse(
                chat,
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=int(fault.value),
            )
        if fault.kind == "hang":
            deadline = time.monotonic() + fault.value
            while not self._release.is_set() and (left := deadline - time.monotonic()) > 0:
                self.lock.wait(left)  # releases the lock while hanging
            return self._refuse(chat, 504, "Gateway Timeout")
        return self._refuse(chat, int(fault.value or 500), "Internal Server Error")


_ACCEPTING = {"garbled", "odd_result"}  # faults that accept the message, then answer what the client cannot read

_ADMIN_RIGHTS = {
    key: True
    for key in (
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    )
}


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _chat_json(chat: int | str, chat_type: str | None) -> dict[str, Any]:
    if isinstance(chat, str):
        return {"id": -1000000000000 - len(chat), "type": "channel", "title": chat, "username": chat.lstrip("@")}
    kind = chat_type or ("private" if chat > 0 else "supergroup")
    if kind == "private":
        return {"id": chat, "type": kind, "first_name": f"user{chat}"}
    return {"id": chat, "type": kind, "title": f"group{chat}"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: BotApiStandIn

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall between header and body

    def _params(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            return dict(json.loads(raw or b"{}"))
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}

    def _answer(self, status: int, body: dict[str, Any] | bytes) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a scripted hang)
            self.close_connection = True

    def do_POST(self) -> None:
        if self.path == "/_stats":  # for benchmarks running the stand-in in another process
            return self._answer(200, self.api.stats())
        params = self._params()
        prefix = f"/bot{self.api.token}/"
        if not self.path.startswith(prefix):
            return self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        status, body = self.api.call(self.path[len(prefix) :], params)
        self._answer(status, body)

    do_GET = do_POST


def main() -> None:
    """Run the stand-in in its own process: prints its base URL, serves until killed."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--per-second", type=int, default=30)
    parser.add_argument("--chat-interval", type=float, default=1.0)
    parser.add_argument("--group-per-minute", type=int, default=20)
    args = parser.parse_args()
    stand_in = BotApiStandIn(args.token, Limits(args.per_second, args.chat_interval, args.group_per_minute))
    print(stand_in.start(), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
