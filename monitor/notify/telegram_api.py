"""Calls to the Bot API: the HTTP request (noting each answer's status), chat ids, RetryAfter's wait."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import warnings
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from monitor.notify.telegram_options import TelegramOptions


@dataclass
class Reply:
    """The HTTP status the Bot API answered a call with (None: no answer came)."""

    status: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


_REPLY: contextvars.ContextVar[Reply | None] = contextvars.ContextVar("telegram_reply", default=None)


@contextlib.contextmanager
def watch_reply() -> Iterator[Reply]:
    """Record the HTTP status of the Bot API calls made in this context (in this task) on the `Reply` yielded."""
    reply = Reply()
    token = _REPLY.set(reply)
    try:
        yield reply
    finally:
        _REPLY.reset(token)


async def call_accepted(call: Awaitable[object], what: str, log: logging.Logger) -> None:
    """Await a Bot API call (`what`: "the message to chat 11", for the log). A failure after the Bot API accepted
    the call (a 2xx whose answer cannot be read, as when a newer Bot API sends a field differently) is logged, not
    raised: the call took effect, and made again it would send the message twice. Any other failure is raised."""
    with watch_reply() as reply:
        try:
            await call
        except Exception as exc:
            if not reply.accepted:
                raise
            log.warning("%s was accepted by the Bot API (HTTP %s), but its answer could not be read (%s: %s); counted"
                        " as sent", what, reply.status, type(exc).__name__, exc)


async def _note_status(response: httpx.Response) -> None:
    """httpx response hook: runs once the status line is in, before the body is read (or fails to be)."""
    if (reply := _REPLY.get()) is not None:
        reply.status = response.status_code


def make_request(options: TelegramOptions, read_timeout: float | None = None) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=max(8, options.concurrency * 2),
        read_timeout=read_timeout or options.timeout,
        write_timeout=options.timeout,
        connect_timeout=options.timeout,
        pool_timeout=options.timeout,
        httpx_kwargs={"event_hooks": {"response": [_note_status]}},
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_id(chat: str) -> int | str:
    """The Bot API's chat_id: a number, or an '@channelname'."""
    return chat if chat.startswith("@") else int(chat)
