"""Logging setup: one line per event, as text for people or JSON for log shippers (`--log-format json`).

Context goes in `extra=`: `log.warning("...", extra={"source": name, "alert": alert.id})`; every key of
`CONTEXT` found on a record is printed (`source=...` in text, a field in JSON). Secrets are masked: the
value of `TELEGRAM_BOT_TOKEN`, anything shaped like a Telegram bot token, the password of a URL
(`https://user:password@host`) and what `protect()` registers never reach the output.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
CONTEXT = ("source", "article", "alert", "watchlist", "notifier", "url", "status")
NOISY = ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler")
# Libraries whose errors are about their input, which the monitor reports itself (a page without article text:
# `extract` says so, source health counts short bodies): heard with --log-level DEBUG only.
INPUT_JUDGES = ("trafilatura", "htmldate")
_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}")
_USERINFO = re.compile(r"(?<=://)[^\s/?#@]*:[^\s/?#@]*@")  # user:password@ in a URL
MASK = "[REDACTED]"
_SECRETS: set[str] = set()  # registered with protect(): masked in every log record from then on
_formatter = logging.Formatter()


def redact(text: str) -> str:
    """`text` with secrets masked: the registered ones and the configured bot token by value, anything
    shaped like a bot token, and the user:password of a URL."""
    configured = os.environ.get("TELEGRAM_BOT_TOKEN")
    for secret in _SECRETS | ({configured} if configured and len(configured) >= 8 else set()):
        text = text.replace(secret, MASK)
    return _USERINFO.sub(MASK + "@", _TOKEN.sub(MASK, text))


def protect(secret: str) -> None:
    """Mask `secret` in every log record made from now on, by any logger (httpx's too), before any handler
    or formatter sees it."""
    if not _SECRETS:
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
    _SECRETS.add(secret)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    if any(secret in message for secret in _SECRETS):
        record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        trace = _formatter.formatException(record.exc_info)
        if any(secret in trace for secret in _SECRETS):
            record.exc_text = redact(trace)


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {key: getattr(record, key) for key in CONTEXT if getattr(record, key, None) is not None}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2026-11-25T14:00:00.123Z WARNING monitor.pipeline source=x: message`, continuation lines indented."""

    def format(self, record: logging.LogRecord) -> str:
        context = "".join(f" {k}={v}" for k, v in _context(record).items())
        text = f"{_timestamp(record)} {record.levelname} {record.name}{context}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return redact(text.replace("\n", "\n    "))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the context fields, and `exc` for a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Route every log record to `stream` (stderr) in the chosen format; quieten chatty libraries."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in INPUT_JUDGES:
        logging.getLogger(name).setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.CRITICAL)
