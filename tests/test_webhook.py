"""The webhook notifier against a real HTTP receiver on 127.0.0.1: signature, JSON, error classes, outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ConfigError, DeliveryError
from monitor.notify import NOTIFIER_KINDS, drain
from monitor.notify.webhook import SIGNATURE_HEADER, WebhookNotifier
from monitor.retry import parse_retry_after
from tests.telegram_support import make_alert, open_store

SECRET = "s3cret-for-hmac"


class Receiver:
    """Records POSTs; answers each with the next scripted (status, headers), else 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status, headers = receiver.script.pop(0) if receiver.script else (204, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = open_store(tmp_path / "monitor.sqlite3")
    yield s
    s.close()


def webhook(url: str, monkeypatch: pytest.MonkeyPatch) -> WebhookNotifier:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    notifier = NOTIFIER_KINDS["webhook"]("hook", {"url": url, "secret_env": "HOOK_SECRET", "timeout": 2}, None)  # type: ignore[arg-type]
    assert isinstance(notifier, WebhookNotifier)
    return notifier


async def test_posts_the_alert_as_signed_json(store: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = webhook(receiver.url, monkeypatch)
    alert = make_alert(store, title="Truce <b> & co", notifiers=("hook",))
    await notifier.start()
    try:
        assert await drain(store, notifier) == 1
    finally:
        await notifier.stop()
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["id"] == alert.id and payload["title"] == "Truce <b> & co"
    assert payload["terms"] == ["ceasefire"]
    assert datetime.fromisoformat(payload["created"]) == alert.created
    assert store.outbox_depth() == 0


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [
        (404, {}, True, None),
        (410, {}, True, None),
        (408, {}, False, None),
        (429, {"Retry-After": "17"}, False, 17.0),
        (503, {"Retry-After": "5"}, False, 5.0),
        (500, {}, False, None),
    ],
)
async def test_error_answers_become_delivery_errors(
    store: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    receiver.script.append((status, headers))
    notifier = webhook(receiver.url, monkeypatch)
    try:
        with pytest.raises(DeliveryError) as caught:
            await notifier.deliver(make_alert(store, notifiers=("hook",)))
    finally:
        await notifier.stop()
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after
    assert f"HTTP {status}" in str(caught.value)


async def test_a_network_error_is_retried(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    notifier = webhook(f"http://127.0.0.1:{port}/hook", monkeypatch)
    try:
        with pytest.raises(DeliveryError) as caught:
            await notifier.deliver(make_alert(store, notifiers=("hook",)))
    finally:
        await notifier.stop()
    assert caught.value.permanent is False


async def test_through_the_outbox_retry_after_is_honoured_then_delivered(
    store: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.script.append((429, {"Retry-After": "120"}))
    notifier = webhook(receiver.url, monkeypatch)
    alert = make_alert(store, notifiers=("hook",))
    try:
        assert await drain(store, notifier) == 0
        now = datetime.now(UTC)
        assert store.owed("hook", now + timedelta(seconds=110)) == []  # not before Retry-After
        assert [a.id for a in store.owed("hook", now + timedelta(seconds=121))] == [alert.id]
        assert store.attempts(alert.id, "hook") == 1
    finally:
        await notifier.stop()


def test_options_and_secret_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_SECRET"):
        NOTIFIER_KINDS["webhook"]("hook", {"url": "https://x.example/", "secret_env": "NO_SUCH_SECRET"}, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="url"):
        NOTIFIER_KINDS["webhook"]("hook", {"url": "ftp://x.example/"}, None)  # type: ignore[arg-type]


def test_retry_after_parses_seconds_and_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
