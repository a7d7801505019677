"""Durations as the config and the bot read them: a number of seconds, or text such as '90s', '5m', '1h30m', '2d'."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = 520 * UNITS["w"]  # 520 weeks, about 10 years: a config duration added to now stays a representable time
EXPECTED = "expected a duration such as 300 (seconds), '30s', '5m', '1h30m', '2d' or '1w'"


def seconds(text: str) -> float:
    """The seconds `text` says: a bare number is seconds, else number-unit parts (s, m, h, d, w) added up;
    ValueError for anything else."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        raise ValueError(EXPECTED)
    return sum(float(n) * UNITS[u.lower()] for n, u in parts)


def _from_config(value: Any) -> Any:
    return seconds(value) if isinstance(value, str) else value


def _at_most_longest(value: float) -> float:
    if value > LONGEST:
        raise ValueError(f"should be at most {spoken(LONGEST)} (about 10 years)")
    return value


# a config duration, in seconds
Seconds = Annotated[float, BeforeValidator(_from_config), Field(ge=0), AfterValidator(_at_most_longest)]


def spoken(value: float) -> str:
    """Seconds as the config writes them, largest units first: 90 -> '1m30s', 7200 -> '2h', 0.5 -> '0.5s'."""
    if value < 60:
        return f"{value:g}s"
    left, parts = round(value), []
    for unit in ("w", "d", "h", "m", "s"):
        count, left = divmod(left, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
