"""Alerts as Telegram HTML messages. Pure: every piece of article text is escaped, nothing exceeds 4,096."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from monitor.records import Alert

MAX_MESSAGE = 4096  # Telegram's limit, in characters of the text as sent
MAX_TITLE = 300
MAX_OUTLETS = 10
ELLIPSIS = "…"


def highlight(text: str, terms: Sequence[str]) -> str:
    """`text` escaped for HTML, each whole-word occurrence of a term in <b>."""
    words = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return escape(text, quote=False)
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?!\w)", re.IGNORECASE)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()], quote=False))
        out.append(f"<b>{escape(m.group(0), quote=False)}</b>")
        last = m.end()
    out.append(escape(text[last:], quote=False))
    return "".join(out)


def distinct_terms(terms: Sequence[str]) -> list[str]:
    """The matched terms once each, ignoring case (the first spelling kept), in order."""
    first: dict[str, str] = {}
    for term in terms:
        first.setdefault(term.casefold(), term)
    return list(first.values())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters of plain text, cut at a word boundary when one is near, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def fit(render: Callable[[str], str], text: str, limit: int = MAX_MESSAGE) -> str:
    """`render(part)` for the longest prefix `part` of plain `text` whose rendering fits in `limit`.

    The plain text is trimmed before it is escaped and highlighted, so no tag or entity is ever cut.
    """
    whole = render(text)
    if len(whole) <= limit:
        return whole
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if len(render(shorten(text, mid))) <= limit:
            low = mid
        else:
            high = mid - 1
    return render(shorten(text, low) if low else "")


def when(moment: datetime | None, zone: ZoneInfo | None) -> str:
    """'2026-11-25 14:05 UTC', and the same moment in the operator's zone when it is not UTC."""
    if moment is None:
        return "time unknown"
    utc = moment.astimezone(ZoneInfo("UTC"))
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    if zone is not None and zone.key != "UTC":
        local = moment.astimezone(zone)
        text += f" · {local.strftime('%H:%M')} {escape(local.tzname() or zone.key)}"
    return text


def _header(alert: Alert, zone: ZoneInfo | None) -> list[str]:
    label = "🔄 UPDATED: " if alert.kind == "updated" else ""
    terms = ", ".join(escape(t) for t in distinct_terms(alert.terms)) or "-"
    return [
        f"<b>{label}{escape(shorten(alert.title, MAX_TITLE))}</b>",
        f"{escape(alert.source)} · {when(alert.published or alert.created, zone)}",
        f"Watch list <i>{escape(alert.watchlist)}</i> · matched: {terms}",
    ]


def _footer(alert: Alert) -> list[str]:
    lines = []
    if alert.also_in:
        outlets = list(alert.also_in[:MAX_OUTLETS])
        more = len(alert.also_in) - len(outlets)
        lines.append("Also in: " + ", ".join(escape(o) for o in outlets) + (f" and {more} more" if more else ""))
    lines.append(escape(alert.url, quote=False))
    return lines


def format_alert(alert: Alert, zone: ZoneInfo | None = None) -> str:
    """One alert as Telegram HTML: headline, outlet and time, why it matched, snippet (or added text), link."""
    head, foot = "\n".join(_header(alert, zone)), "\n".join(_footer(alert))
    updated = alert.kind == "updated" and bool(alert.added)
    body = " ".join(alert.added) if updated else alert.snippet
    label = "<i>Added:</i> " if updated else ""

    def render(part: str) -> str:
        middle = f"\n\n{label}{highlight(part, alert.terms)}\n\n" if part else "\n\n"
        return head + middle + foot

    return fit(render, body)


def _digest_item(alert: Alert, zone: ZoneInfo | None) -> str:
    label = "UPDATED: " if alert.kind == "updated" else ""
    return (
        f"• <b>{label}{escape(shorten(alert.title, MAX_TITLE))}</b>\n"
        f"  {escape(alert.source)} · {when(alert.published or alert.created, zone)}"
        f" · <i>{escape(alert.watchlist)}</i>\n"
        f"  {escape(alert.url, quote=False)}"
    )


def format_digest(alerts: Sequence[Alert], zone: ZoneInfo | None = None, title: str = "Digest") -> tuple[str, int]:
    """Several alerts in one message; returns the text and how many alerts (from the first) it holds."""
    if len(alerts) == 1 and title == "Digest":
        return format_alert(alerts[0], zone), 1
    items: list[str] = []
    for alert in alerts:
        item = _digest_item(alert, zone)
        if items and len(_digest_text(title, [*items, item])) > MAX_MESSAGE:
            break
        items.append(item)
    return _digest_text(title, items), len(items)


def _digest_text(title: str, items: Sequence[str]) -> str:
    count = f"{len(items)} alert{'s' if len(items) != 1 else ''}"
    return f"<b>{escape(title)}: {count}</b>\n\n" + "\n\n".join(items)
