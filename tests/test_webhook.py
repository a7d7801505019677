"""The webhook notifier against a real HTTP receiver on 127.0.0.1: signature, JSON, error classes, outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.errors import ConfigError, DeliveryError
from monitor.notify import NOTIFIER_KINDS, drain
from monitor.notify.webhook import SIGNATURE_HEADER, WebhookNotifier
from monitor.retry import parse_retry_after
from monitor.store.sqlite import SqliteStore
from tests.receivers import WebhookReceiver
from tests.telegram_support import make_alert, started

SECRET = "s3cret-for-hmac"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def webhook(
    url: str, store: SqliteStore, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> AbstractAsyncContextManager[WebhookNotifier]:
    """The `webhook` kind's notifier posting to `url`, signed, started for the `async with` block and stopped after."""
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    settings = {"url": url, "secret_env": "HOOK_SECRET", "timeout": 2, **options}
    notifier = NOTIFIER_KINDS["webhook"]("hook", settings, store)
    assert isinstance(notifier, WebhookNotifier)
    return started(notifier)


async def test_posts_the_alert_as_signed_json(
    store: SqliteStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = make_alert(store, title="Truce <b> & co", notifiers=("hook",))
    async with webhook(receiver.url, store, monkeypatch) as notifier:
        assert await drain(store, notifier) == 1
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
    store: SqliteStore,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    receiver.script.append((status, headers))
    async with webhook(receiver.url, store, monkeypatch) as notifier:
        with pytest.raises(DeliveryError) as caught:
            await notifier.deliver(make_alert(store, notifiers=("hook",)))
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after
    assert f"HTTP {status}" in str(caught.value)


async def test_a_network_error_is_retried(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    async with webhook(f"http://127.0.0.1:{port}/hook", store, monkeypatch) as notifier:
        with pytest.raises(DeliveryError) as caught:
            await notifier.deliver(make_alert(store, notifiers=("hook",)))
    assert caught.value.permanent is False


async def test_through_the_outbox_retry_after_is_honoured_then_delivered(
    store: SqliteStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.script.append((429, {"Retry-After": "120"}))
    alert = make_alert(store, notifiers=("hook",))
    async with webhook(receiver.url, store, monkeypatch) as notifier:
        assert await drain(store, notifier) == 0
        now = datetime.now(UTC)
        assert store.owed("hook", now + timedelta(seconds=110)) == []  # not before Retry-After
        assert [a.id for a in store.owed("hook", now + timedelta(seconds=121))] == [alert.id]
        assert store.attempts(alert.id, "hook") == 1


def test_options_and_secret_are_checked(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_SECRET"):
        NOTIFIER_KINDS["webhook"]("hook", {"url": "https://x.example/", "secret_env": "NO_SUCH_SECRET"}, store)
    with pytest.raises(ConfigError, match="url"):
        NOTIFIER_KINDS["webhook"]("hook", {"url": "ftp://x.example/"}, store)


def test_retry_after_parses_seconds_and_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Length": "100"}, b'{"ok": tr'),  # the answer is cut short
        ({"Content-Encoding": "gzip"}, b"not gzip at all"),  # the answer cannot be decoded
    ],
)
async def test_a_2xx_is_delivered_whatever_its_body(
    store: SqliteStore,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    body: bytes,
) -> None:
    receiver.body = body
    receiver.script.append((200, headers))
    make_alert(store, notifiers=("hook",))
    async with webhook(receiver.url, store, monkeypatch) as notifier:
        assert await drain(store, notifier) == 1
    assert len(receiver.received) == 1
    assert store.outbox_depth() == 0 and store.attempts(1, "hook") == 0
    assert "answer could not be read" in caplog.text


def due_again(store: SqliteStore) -> None:
    """Make every owed alert due now, as if its backoff had elapsed."""
    store.conn.execute("UPDATE outbox SET next_attempt = '2000-01-01T00:00:00.000000+00:00' WHERE status = 'owed'")


async def test_an_alert_failing_while_the_receiver_answers_is_dead_lettered_and_the_queue_moves_on(
    store: SqliteStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.poison = (b"Poison pill", 500)  # the receiver fails on this alert, every time
    stuck = make_alert(store, title="Poison pill", notifiers=("hook",))
    after = make_alert(store, title="After the pill", notifiers=("hook",))
    told: list[str] = []
    async with webhook(receiver.url, store, monkeypatch, max_attempts=3) as notifier:
        for _ in range(2):
            assert await drain(store, notifier, on_dead_letter=told.append) == 0  # the later alert waits its turn
            due_again(store)
        assert await drain(store, notifier, on_dead_letter=told.append) == 1  # third failure: given up; next goes
    titles = [json.loads(body)["title"] for _, body in receiver.received]
    assert titles == ["Poison pill"] * 3 + ["After the pill"]
    assert store.owed("hook", datetime.now(UTC) + timedelta(days=1)) == []
    assert store.dead_letters(datetime.now(UTC) - timedelta(minutes=1)) == 1
    assert len(told) == 1 and f"alert {stuck.id} " in told[0] and "3 attempts" in told[0]
    assert f"alert {after.id} " not in told[0]


@pytest.mark.parametrize("status", [503, None])  # unavailable, or nothing listening
async def test_an_outage_of_the_receiver_dead_letters_nothing(
    store: SqliteStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, status: int | None
) -> None:
    url = receiver.url
    if status is None:
        receiver.stop()
    else:
        receiver.poison = (b"{", status)
    alert = make_alert(store, notifiers=("hook",))
    async with webhook(url, store, monkeypatch, max_attempts=1) as notifier:
        for _ in range(3):
            assert await drain(store, notifier) == 0
            due_again(store)
    assert [a.id for a in store.owed("hook", datetime.now(UTC))] == [alert.id]
    assert store.attempts(alert.id, "hook") == 3 and store.dead_letters(datetime(2000, 1, 1, tzinfo=UTC)) == 0
