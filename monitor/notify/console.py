"""The `console` notifier: prints alerts as plain text (the default when no bot token is set)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from monitor.notify import register
from monitor.records import Alert
from monitor.store import Store


def render_text(alert: Alert) -> str:
    """A plain-text rendering of an alert: headline, where and when, why it matched, the link."""
    when = alert.published.strftime("%Y-%m-%d %H:%M UTC") if alert.published else "time unknown"
    head = "UPDATED" if alert.kind == "updated" else "ALERT"
    lines = [
        f"[{head}] {alert.watchlist}: {alert.title}",
        f"  {alert.source} · {when}",
        f"  matched: {', '.join(alert.terms) or '-'}",
    ]
    if alert.kind == "updated" and alert.added:
        lines.append("  added: " + " ".join(alert.added))
    elif alert.snippet:
        lines.append(f"  “{alert.snippet}”")
    if alert.also_in:
        lines.append(f"  also in: {', '.join(alert.also_in)}")
    lines.append(f"  {alert.url}")
    return "\n".join(lines)


class ConsoleNotifier:
    """Writes each alert to a text stream (stdout by default)."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream

    async def deliver(self, alert: Alert) -> None:
        stream = self._stream or sys.stdout
        stream.write(render_text(alert) + "\n\n")
        stream.flush()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@register("console")
def console(name: str, options: Mapping[str, Any], store: Store) -> ConsoleNotifier:
    return ConsoleNotifier(name)
