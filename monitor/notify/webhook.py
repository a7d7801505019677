"""The `webhook` notifier: POSTs each alert as JSON, signed with HMAC-SHA256 of the body.

A 2xx answer is a delivery whatever its body (it is read only to free the connection). A receiver that
cannot be reached, or answers 408, 425, 429, 502, 503 or 504, is having an outage: those attempts never
count towards `max_attempts`; other failures (5xx, no answer after the request went out) do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError, DeliveryError
from monitor.notify import DEFAULT_MAX_ATTEMPTS, InvalidOptions, register
from monitor.records import Alert
from monitor.retry import parse_retry_after
from monitor.store import Store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Monitor-Signature"
_RETRYABLE = {408, 425, 429}  # 4xx worth retrying
_UNAVAILABLE = _RETRYABLE | {502, 503, 504}  # the receiver is busy or down: retried, never counted
_UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # the request never went out


class WebhookOptions(BaseModel):
    """Options of a `webhook` notifier; the secret comes from the environment variable `secret_env`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = None
    timeout: float = Field(10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)  # failed attempts (outages aside) before a dead letter


def alert_json(alert: Alert) -> bytes:
    """The alert as compact JSON (UTF-8), times in ISO-8601."""

    def default(value: object) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"cannot encode {type(value).__name__}")

    return json.dumps(asdict(alert), default=default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value: 'sha256=' and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """POSTs each alert to one URL; 2xx is delivered, other answers raise `DeliveryError`."""

    def __init__(self, name: str, options: WebhookOptions, secret: bytes | None) -> None:
        self.name = name
        self.options = options
        self.max_attempts = options.max_attempts
        self._secret = secret
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.options.timeout, follow_redirects=False)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {**self.options.headers, "Content-Type": "application/json", "User-Agent": "ceasefire-monitor"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        return headers

    async def deliver(self, alert: Alert) -> None:
        if self._client is None:
            await self.start()
        assert self._client is not None
        body = alert_json(alert)
        request = self._client.build_request("POST", self.options.url, content=body, headers=self._headers(body))
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            message = f"webhook {self.name}: {type(exc).__name__}: {exc}"
            raise DeliveryError(message, outage=isinstance(exc, _UNREACHABLE)) from exc
        try:
            await response.aread()
        except httpx.HTTPError as exc:
            if response.is_success:
                log.warning("webhook %s: alert %d accepted (HTTP %d) but the answer could not be read (%s: %s);"
                            " counted as delivered", self.name, alert.id, response.status_code,
                            type(exc).__name__, exc)
        finally:
            await response.aclose()
        status = response.status_code
        if response.is_success:
            return
        message = f"webhook {self.name}: HTTP {status}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        permanent = 400 <= status < 500 and status not in _RETRYABLE
        raise DeliveryError(
            message, permanent=permanent, retry_after=None if permanent else retry_after, outage=status in _UNAVAILABLE
        )


@register("webhook")
def webhook(name: str, options: Mapping[str, Any], store: Store) -> WebhookNotifier:
    try:
        opts = WebhookOptions.model_validate(dict(options))
    except ValidationError as exc:
        raise InvalidOptions(name, exc) from None
    secret: bytes | None = None
    if opts.secret_env:
        value = os.environ.get(opts.secret_env)
        if not value:
            raise ConfigError(f"notifier {name}: the secret variable ${opts.secret_env} is not set")
        secret = value.encode("utf-8")
    return WebhookNotifier(name, opts, secret)
