"""`monitor sources`: the sources' table in 80 columns (`--wide`: with their errors in full), one source in detail
(`monitor sources NAME`, or `monitor sources show NAME` for a source named like an action), and the sources as
OPML (`monitor sources export`, `monitor sources import`, in `monitor.opml`).

Every view reads the store afresh when it is asked for, never a copy kept by a running service.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.config import Settings, SourceConfig
from monitor.durations import spoken
from monitor.errors import InputError
from monitor.records import SourceState
from monitor.sourcehealth import Problem, SourceWatch, Thresholds
from monitor.status import ago, current_interval, source_health
from monitor.store import Store, open_store

if TYPE_CHECKING:  # rich is imported when a table is drawn, not by every command that builds the parser
    from rich.console import JustifyMethod
    from rich.table import Table

NARROW = 80  # columns of the table when the output is not a terminal
PROBLEM_WORDS = {"silent": "silent", "selector": "selector", "extraction": "short"}  # health of an ok source
RATE_WINDOW = timedelta(days=7)  # items per day are counted over this
ACTIONS = ("export", "import")  # OPML; `show NAME` shows any source, one named `export` or `import` too
COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("source", "left"), ("health", "left"), ("every", "right"), ("/day", "right"), ("last fetch", "left"),
    ("HTTP", "right"), ("err", "right"), ("next", "left"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: NAME, or an action and its file."""
    parser.add_argument("what", nargs="*", metavar="NAME | show NAME | export | import FILE.opml",
                        help="a source to show in full (show NAME: even one named export, import or show), or"
                        " export/import the sources as OPML")
    parser.add_argument("--wide", action="store_true", help="add why each interval, and each last error in full")
    parser.add_argument("--out", metavar="FILE", help="export: write the OPML here (default: standard output)")
    parser.add_argument("--dry-run", action="store_true", help="import: say what would be added, change nothing")


def run_sources(settings: Settings, args: argparse.Namespace) -> int:
    """The table, one source, or an OPML export or import, by the arguments."""
    from rich.console import Console

    from monitor import opml

    action, *rest = args.what or [""]
    if action in ACTIONS:
        return opml.run(settings, action, rest, args)
    if action == "show" and (rest or not any(s.name == "show" for s in settings.monitor.sources)):
        if len(rest) != 1:
            raise InputError("usage: monitor sources show NAME")
        action, rest = rest[0], []
    if rest or args.out or args.dry_run:
        raise InputError("monitor sources takes one NAME at most; --out goes with export, --dry-run with import")
    source = _source(settings, action) if action else None
    store = open_store(settings)
    try:
        if source:
            Console(width=_width(False)).print(detail(settings, source, store, datetime.now(UTC)))
        else:
            Console(width=_width(args.wide)).print(table(settings, store, datetime.now(UTC), wide=args.wide))
    finally:
        store.close()
    return 0


def _width(wide: bool) -> int | None:
    """The console's width: the terminal's; unbounded for `--wide`; NARROW into a pipe or file."""
    if wide:
        return 100_000
    return None if sys.stdout.isatty() else NARROW


def _source(settings: Settings, name: str) -> SourceConfig:
    for source in settings.monitor.sources:
        if source.name == name:
            return source
    configured = ", ".join(s.name for s in settings.monitor.sources) or "none"
    raise InputError(f"no source named {name!r} in {settings.path} (configured: {configured})")


def items_per_day(store: Store, source: str, now: datetime) -> str:
    """New items a day over the last RATE_WINDOW: one decimal below 10."""
    (count,) = store.new_items(source, [now - RATE_WINDOW])
    rate = count / (RATE_WINDOW / timedelta(days=1))
    return f"{rate:.1f}" if rate < 10 else f"{rate:.0f}"


def _when(moment: datetime | None) -> str:
    """A moment in UTC, to the minute, year left out: 11 characters."""
    return f"{moment.astimezone(UTC):%m-%d %H:%M}" if moment else "-"


def _next(health: str, state: SourceState | None, now: datetime) -> str:
    """When the source is polled next: "in 4m", "due" (now, or never polled), "-" (not polled)."""
    if health in ("off", "disabled"):
        return "-"
    due = state.next_due if state else None
    left = round((due - now).total_seconds() / 60) * 60 if due else 0
    return f"in {spoken(left)}" if left > 0 else "due"


def table(settings: Settings, store: Store, now: datetime, wide: bool = False) -> Table:
    """One row per configured source, in the config's order; with `wide`, its last error in full."""
    from rich import box
    from rich.table import Table

    states = {s.name: s for s in store.source_states()}
    problems = told_problems(store)
    grid = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, show_edge=False,
                 caption="times UTC; `monitor sources NAME` shows one source in full", caption_justify="left")
    for header, justify in COLUMNS:
        grid.add_column(header, justify=justify, no_wrap=True)
    if wide:
        grid.add_column("why this interval", no_wrap=True)
        grid.add_column("last error", no_wrap=True)
    for source in settings.monitor.sources:
        state = states.get(source.name)
        health = source_health(source, state)
        kinds = [PROBLEM_WORDS[p.kind] for p in problems if p.source == source.name and p.kind in PROBLEM_WORDS]
        row = [
            source.name,
            kinds[0] if health == "ok" and kinds else health.split()[0],  # "never" polled
            spoken(current_interval(settings, source, state)),
            items_per_day(store, source.name, now),
            _when(state.last_fetch if state else None),
            str(state.last_status or "-") if state else "-",
            str(state.error_count) if state else "0",
            _next(health, state, now),
        ]
        if wide:
            row += [state.interval_reason or "-", state.last_error or ""] if state else ["-", ""]
        grid.add_row(*row)
    return grid


def detail(settings: Settings, source: SourceConfig, store: Store, now: datetime) -> Table:
    """Everything about one source: its config, health, items per day, interval, and every field of its state."""
    from rich.table import Table

    state = store.source_state(source.name)
    health = source_health(source, state)
    rows: dict[str, object] = {
        "source": source.name,
        "kind": source.kind,
        "url": source.url,
        "language": source.language or "-",
        "watch lists": ", ".join(source.watchlists or ()) or "all",
        "health": health,
        "problems": "; ".join(p.message for p in told_problems(store) if p.source == source.name) or "none",
        "items per day": f"{items_per_day(store, source.name, now)} (last {spoken(RATE_WINDOW.total_seconds())})",
        "next poll": _next(health, state, now),
    }
    rows |= {f.name.replace("_", " "): getattr(state, f.name) for f in dataclasses.fields(state) if f.name != "name"}
    rows["interval"] = spoken(current_interval(settings, source, state))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for key, value in _shown(rows, now).items():
        grid.add_row(key, value)
    return grid


def told_problems(store: Store) -> list[Problem]:
    """The source-health problems the admins were told of and that have not cleared (as the store keeps them)."""
    return SourceWatch(Thresholds(), store.health_states()).problems()


def _shown(rows: Mapping[str, object], now: datetime) -> dict[str, str]:
    """Values as text: moments in UTC with how long ago, nothing as '-'."""
    return {key: ago(value, now) if isinstance(value, datetime) else "-" if value is None else str(value)
            for key, value in rows.items()}
