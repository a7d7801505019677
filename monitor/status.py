"""The status page, `GET /` on the health server: sources, recent alerts, the outbox and two weeks of alerts.

One read-only HTML document with its CSS and its chart (SVG) inline: no script, no external asset. It reads the
store through the `Store` interface only. Every value is escaped on its way in: markup is made by `element`
alone, and any text it is given (a title, an error, a watch-list name) is escaped, so a hostile feed stays text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.config import Settings, SourceConfig
from monitor.durations import spoken
from monitor.records import Alert, SourceState, parse_datetime
from monitor.store import Store

CHART_DAYS = 14
RECENT_ALERTS = 20
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 12, 3, 40  # SVG user units (pixels at 1:1)
SPANS = ((120, 1, "s"), (7200, 60, "min"), (48 * 3600, 3600, "h"), (float("inf"), 86400, "d"))  # below, per, unit

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin-bottom:.5em}
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#16632b}.failing,.fail{color:#b00020;font-weight:600}.degraded,.disabled{color:#a15c00}
.off,.never{color:#777}.snippet{max-width:40em;color:#444}.t{white-space:nowrap}
svg rect{fill:#3d6fb6}svg .axis{stroke:#bbb}svg text{font-size:9px;fill:#666}
"""


class Markup(str):
    """Text that is already HTML (what `element` returns); any other text is escaped when it goes into a page."""


def escape(value: object) -> Markup:
    """`value` as HTML text: markup as it is, anything else escaped (quotes too, for attributes)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def element(tag: str, *children: object, **attrs: object) -> Markup:
    """`<tag attrs>children</tag>`, children and attribute values escaped; an attribute set to None is left out.

    Attribute names are Python names: a trailing `_` is dropped (`class_`) and `_` becomes `-` (`data_count`).
    """
    names = ((name.rstrip("_").replace("_", "-"), value) for name, value in attrs.items() if value is not None)
    head = "".join(f' {name}="{escape(value)}"' for name, value in names)
    return Markup(f"<{tag}{head}>{''.join(escape(c) for c in children)}</{tag}>")


def fragment(parts: Iterable[Markup]) -> Markup:
    """Markup pieces side by side."""
    return Markup("".join(parts))


def source_health(source: SourceConfig, state: SourceState | None) -> str:
    """A source's health state: ok, failing, disabled (gone, HTTP 410), never polled, or off (in the config)."""
    if not source.enabled:
        return "off"
    if state is None or state.last_fetch is None:
        return "never polled"
    if state.disabled:
        return "disabled"
    return "failing" if state.error_count else "ok"


def current_interval(settings: Settings, source: SourceConfig, state: SourceState | None) -> float:
    """The interval the source is polled at now: the one its last poll chose, else the one it starts with."""
    return state.interval if state and state.interval is not None else settings.source_interval(source)


def ago(moment: datetime | None, now: datetime) -> str:
    """`moment` as UTC time and its distance from now ("2026-11-30 12:00 (in 5 min)"), or "-"."""
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    size = next(f"{span / unit:.0f} {name}" for limit, unit, name in SPANS if span < limit)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} ({f'in {size}' if seconds > 0 else f'{size} ago'})"


def next_poll(health: str, state: SourceState | None, now: datetime) -> str:
    """When a source in this health state is due: "-" when it is not polled, "soon" when it is due already or was
    never polled."""
    if health in ("off", "disabled"):
        return "-"
    due = state.next_due if state else None
    return ago(due, now) if due is not None and due > now else "soon"


def sources_table(settings: Settings, states: Mapping[str, SourceState], now: datetime) -> Markup:
    """One row per configured source, in the config's order."""
    rows = []
    for source in settings.monitor.sources:
        state = states.get(source.name)
        health = source_health(source, state)
        rows.append(element(
            "tr",
            element("td", source.name),
            element("td", source.kind),
            element("td", spoken(current_interval(settings, source, state)), class_="n"),
            element("td", health, class_=health.split()[0]),
            element("td", ago(state.last_fetch if state else None, now), class_="t"),
            element("td", (state.last_status or "-") if state else "-", class_="n"),
            element("td", state.error_count if state else 0, class_="n"),
            element("td", next_poll(health, state, now), class_="t"),
            element("td", (state.last_error or "") if state else ""),
            data_source=source.name,
            data_health=health,
        ))
    head = element("tr", *(element("th", h) for h in (
        "source", "kind", "every", "health", "last fetch", "status", "errors", "next poll", "last error")))
    return element("table", element("thead", head), element("tbody", *rows), id="sources")


def link(alert: Alert) -> Markup:
    """The alert's title, linked to its article when the URL is http(s) (never a `javascript:` URL)."""
    if urlsplit(alert.url).scheme.lower() not in ("http", "https"):
        return escape(alert.title)
    return element("a", alert.title, href=alert.url, rel="noopener noreferrer")


def alerts_table(alerts: Iterable[Alert], now: datetime) -> Markup:
    """One row per alert: when, watch list, outlet, kind, and the linked title over its snippet."""
    rows = [
        element(
            "tr",
            element("td", ago(a.created, now), class_="t"),
            element("td", a.watchlist),
            element("td", a.source),
            element("td", a.kind),
            element("td", link(a), element("div", a.snippet, class_="snippet")),
            data_alert=a.id,
        )
        for a in alerts
    ]
    head = element("tr", *(element("th", h) for h in ("created", "watch list", "source", "kind", "article")))
    return element("table", element("thead", head), element("tbody", *rows), id="alerts")


def outbox_table(settings: Settings, store: Store, now: datetime) -> Markup:
    """Deliveries owed per notifier and in all, the oldest one owed, and the dead letters of a day and two weeks."""
    rows = [
        element("tr", element("th", f"owed to {n.name} ({n.kind}{'' if n.enabled else ', off'})"),
                element("td", store.outbox_depth(n.name), class_="n"), data_notifier=n.name)
        for n in settings.monitor.notifiers
    ]
    oldest = store.oldest_owed()
    rows += [
        element("tr", element("th", "owed in all"), element("td", store.outbox_depth(), class_="n"), id="owed"),
        element("tr", element("th", "oldest owed"), element("td", ago(oldest, now))),
        element("tr", element("th", "dead letters, 24 h"),
                element("td", store.dead_letters(now - timedelta(days=1)), class_="n"), id="dead-day"),
        element("tr", element("th", f"dead letters, {CHART_DAYS} days"),
                element("td", store.dead_letters(now - timedelta(days=CHART_DAYS)), class_="n"), id="dead-weeks"),
    ]
    return element("table", element("tbody", *rows), id="outbox")


def bars(days: list[date], counts: Mapping[date, int], top: int) -> Markup:
    """One watch list's alerts per day as an SVG bar chart, on the scale `top` that every watch list shares."""
    width = len(days) * (BAR_WIDTH + BAR_GAP)
    rects = []
    for i, day in enumerate(days):
        count = counts.get(day, 0)
        height = round(CHART_HEIGHT * count / top) if top else 0
        rects.append(element(
            "rect", element("title", f"{day}: {count}"),
            x=i * (BAR_WIDTH + BAR_GAP), y=CHART_HEIGHT - height, width=BAR_WIDTH, height=height,
            data_day=day.isoformat(), data_count=count,
        ))
    axis = element("line", x1=0, y1=CHART_HEIGHT + 0.5, x2=width, y2=CHART_HEIGHT + 0.5, class_="axis")
    labels = [element("text", f"{days[0]:%m-%d}", x=0, y=CHART_HEIGHT + 11),
              element("text", f"{days[-1]:%m-%d}", x=width, y=CHART_HEIGHT + 11, text_anchor="end")]
    return element("svg", *rects, axis, *labels, xmlns="http://www.w3.org/2000/svg", width=width,
                   height=CHART_HEIGHT + 13, viewBox=f"0 0 {width} {CHART_HEIGHT + 13}", role="img")


def chart_table(settings: Settings, store: Store, now: datetime) -> Markup:
    """Alerts per watch list per UTC day over the last CHART_DAYS days, today included; one row per watch list
    (the configured ones, then any other the store has alerts of)."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    counted = store.alerts_per_day(datetime.combine(days[0], datetime.min.time(), UTC))
    names = [w.name for w in settings.watchlists]
    names += sorted({name for name, _ in counted} - set(names))
    per_list = {name: {day: n for (listed, day), n in counted.items() if listed == name} for name in names}
    top = max(counted.values(), default=0)
    rows = [
        element("tr", element("th", name), element("td", bars(days, per_list[name], top)),
                element("td", sum(per_list[name].values()), class_="n"), data_watchlist=name)
        for name in names
    ]
    title = f"alerts per day, {days[0]} to {today} (UTC; the tallest bar: {top})"
    head = element("tr", element("th", "watch list"), element("th", title), element("th", "in all"))
    return element("table", element("thead", head), element("tbody", *rows), id="chart")


def render(settings: Settings, store: Store, health: Mapping[str, Any], now: datetime) -> bytes:
    """The whole page as UTF-8 HTML; `health` is the /healthz body (its status and reasons head the page)."""
    states = {s.name: s for s in store.source_states()}
    status = str(health.get("status", "unknown"))
    reasons = [element("li", r) for r in health.get("reasons", [])]
    problems = [element("li", p["message"], f" (since {ago(parse_datetime(p['since']), now)})",
                        data_source=p["source"], data_problem=p["problem"])
                for p in health.get("source_problems", [])]
    body = fragment([
        element("h1", "ceasefire-monitor"),
        element("p", "status: ", element("span", status, class_=status, id="status"),
                f" · {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC · ",
                element("a", "/healthz", href="/healthz"), " · ", element("a", "/metrics", href="/metrics")),
        element("ul", *reasons, id="reasons") if reasons else Markup(""),
        element("h2", "Sources"),
        element("ul", *problems, id="problems") if problems else Markup(""),
        sources_table(settings, states, now),
        element("h2", "Recent alerts"), alerts_table(store.recent_alerts(RECENT_ALERTS), now),
        element("h2", "Outbox"), outbox_table(settings, store, now),
        element("h2", "Alerts per watch list"), chart_table(settings, store, now),
    ])
    head = fragment([
        Markup('<meta charset="utf-8">'),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        element("title", "ceasefire-monitor status"),
        element("style", Markup(STYLE)),
    ])
    page = f"<!DOCTYPE html>\n{element('html', element('head', head), element('body', body), lang='en')}\n"
    return page.encode()
