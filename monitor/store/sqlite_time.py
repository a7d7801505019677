"""The one time encoding of the SQLite store's tables, the core's, Telegram's and `schema_migrations`: ISO-8601 UTC
text with microseconds (`records.format_datetime`), which sorts as the times do, so SQL compares it as text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from monitor.records import format_datetime


@overload
def to_text(value: datetime) -> str: ...
@overload
def to_text(value: None) -> None: ...
def to_text(value: datetime | None) -> str | None:
    """A datetime as the store keeps it (naive datetimes are taken as UTC); None stays None."""
    return None if value is None else format_datetime(value)


def from_text(value: str | None) -> datetime | None:
    """A time the store keeps, as an aware UTC datetime; None stays None."""
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)
