"""The options of a `telegram` notifier (config/monitor.yaml) and its bot token (the environment only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.errors import ConfigError
from monitor.notify import DEFAULT_MAX_ATTEMPTS, InvalidOptions

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
TOKEN_FILE_ENV = "TELEGRAM_BOT_TOKEN_FILE"


class RateLimits(BaseModel):
    """Telegram's sending limits (defaults: the documented ones); `margin` seconds of safety per window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: int = Field(30, ge=1)  # messages per second, all chats together
    chat_interval: float = Field(1.0, ge=0)  # seconds between two messages to one chat
    group_per_minute: int = Field(20, ge=1)  # messages per minute to one group or channel
    margin: float = Field(0.0, ge=0)


class ChannelTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chat: str  # '@channelname' or a numeric chat id
    watchlists: list[str] = Field(min_length=1)

    @field_validator("chat", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value)


class TelegramOptions(BaseModel):
    """The options of a `telegram` notifier in config/monitor.yaml (the token is never one of them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = Field(default_factory=list)
    channels: list[ChannelTarget] = Field(default_factory=list)
    timezone: str = "UTC"
    link_preview: bool = False
    rate: RateLimits = Field(default_factory=RateLimits)
    timeout: float = Field(10.0, gt=0)  # seconds for one API request
    concurrency: int = Field(32, ge=1)  # requests in flight at once
    backoff_base: float = Field(2.0, gt=0)
    backoff_cap: float = Field(300.0, gt=0)
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)  # failed sends (outages aside) before a dead letter
    poll_timeout: float = Field(10.0, ge=0)  # long-polling timeout of getUpdates

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_options(name: str, options: Mapping[str, Any]) -> TelegramOptions:
    if "token" in options:
        raise ConfigError(f"notifier {name}: the bot token comes from ${TOKEN_ENV}, never from a config file")
    try:
        return TelegramOptions.model_validate(dict(options))
    except ValidationError as exc:
        raise InvalidOptions(name, exc) from None


def load_token(env: Mapping[str, str] = os.environ) -> str:
    """The bot token from $TELEGRAM_BOT_TOKEN, else from the file named by $TELEGRAM_BOT_TOKEN_FILE."""
    token = env.get(TOKEN_ENV, "").strip()
    if not token and env.get(TOKEN_FILE_ENV):
        try:
            token = Path(env[TOKEN_FILE_ENV]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read ${TOKEN_FILE_ENV}: {exc.strerror}") from exc
    if not token:
        raise ConfigError(f"no bot token: set ${TOKEN_ENV} or ${TOKEN_FILE_ENV}")
    return token
