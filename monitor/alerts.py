"""`monitor alerts`: the store's recent alerts, newest first, with outlet, time, matched terms and link; and
`monitor redeliver`: dead letters (deliveries given up on) owed again."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import Settings
from monitor.durations import EXPECTED, seconds
from monitor.notify.telegram_format import distinct_terms
from monitor.records import Alert

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000_000
EARLIEST = datetime.min.replace(tzinfo=UTC)


def duration(text: str) -> timedelta:
    """--since: a duration as monitor.durations reads it ('90m', '12h', '1d', '2w'); one longer than a timedelta
    holds is the longest."""
    try:
        return timedelta(seconds=seconds(text))
    except OverflowError:
        return timedelta.max
    except ValueError:
        raise argparse.ArgumentTypeError(EXPECTED) from None


def limit(text: str) -> int:
    """--limit: a whole number from 1 to MAX_LIMIT."""
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to {MAX_LIMIT}, not {value}")
    return value


def _since(ago: timedelta) -> datetime:
    """The moment `ago` before now; the earliest there is when that is before it (--since 99999999w: everything)."""
    now = datetime.now(UTC)
    return now - ago if ago < now - EARLIEST else EARLIEST


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument("--since", type=duration, default=timedelta(days=1), metavar="DURATION",
                        help="how far back, e.g. 90m, 12h, 1d, 2w (default 1d)")
    parser.add_argument("--watchlist", metavar="NAME", help="only this watch list's alerts (any case)")
    parser.add_argument("--limit", type=limit, default=DEFAULT_LIMIT,
                        help=f"at most this many, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})")
    parser.add_argument("--json", action="store_true", help="a JSON array of the alerts")


def run_alerts(settings: Settings, args: argparse.Namespace) -> int:
    """Print the alerts created within --since (of --watchlist); a line on stderr says how many."""
    from monitor.store import open_store

    since = _since(args.since)
    watchlists = None
    if args.watchlist is not None:
        wanted = args.watchlist.casefold()
        watchlists = [w.name for w in settings.watchlists if w.name.casefold() == wanted]
        if not watchlists:  # a watch list taken out of the config keeps its stored alerts
            _unknown("watch list", args.watchlist, [w.name for w in settings.watchlists],
                     "showing the stored alerts of that name")
            watchlists = [args.watchlist]
    store = open_store(settings)
    try:
        alerts = store.recent_alerts(args.limit, watchlists, since)
    finally:
        store.close()
    if args.json:
        print(json.dumps([as_json(a) for a in alerts], ensure_ascii=False, indent=2))
    elif alerts:
        print("\n\n".join(as_text(a) for a in alerts))
    more = " (the limit: --limit for more)" if alerts and len(alerts) == args.limit else ""
    print(f"{len(alerts)} alert(s) since {_utc(since)}{more}", file=sys.stderr)
    return 0


def configure_redeliver(parser: argparse.ArgumentParser) -> None:
    """`monitor redeliver`'s options."""
    parser.add_argument("--since", type=duration, default=timedelta(days=1), metavar="DURATION",
                        help="dead letters given up on this recently, e.g. 90m, 12h, 1d, 2w (default 1d)")
    parser.add_argument("--notifier", metavar="NAME", help="only those of this notifier")


def run_redeliver(settings: Settings, args: argparse.Namespace) -> int:
    """Make the dead letters of --since (of --notifier) owed again, as new: a running service delivers them within
    a minute (its dispatchers look again every few seconds, Telegram's every minute at most), or the next
    `monitor run` or `monitor once` does."""
    from monitor.notify.roster import configured
    from monitor.store import open_store

    since = _since(args.since)
    names = [n.name for n in configured(settings)]
    if args.notifier is not None and args.notifier not in names:
        _unknown("notifier", args.notifier, names, "its dead letters are owed again, but only a notifier of that "
                 "name delivers them")
    store = open_store(settings)
    try:
        outbox, chats = store.redeliver(since, args.notifier)
    finally:
        store.close()
    print(f"{outbox + chats} dead letter(s) since {_utc(since)} owed again ({outbox} in the outbox, {chats} to"
          " Telegram chats)", file=sys.stderr)
    return 0


def _unknown(what: str, name: str, names: list[str], outcome: str) -> None:
    """Say on stderr that the config has no `what` called `name` (a typo, or one taken out of it), and what follows."""
    print(f"note: no configured {what} is named {name!r} (configured: {', '.join(names) or 'none'}); {outcome}",
          file=sys.stderr)


def _utc(moment: datetime | None) -> str:
    """'2026-11-28 22:40 UTC'; the year in four digits even before 1000, which strftime's %Y may not pad."""
    if moment is None:
        return "-"
    moment = moment.astimezone(UTC)
    return f"{moment.year:04}-{moment:%m-%d %H:%M} UTC"


def as_text(alert: Alert) -> str:
    """An alert in a few lines that read well in 80 columns: time, watch list and outlet; title; terms; link."""
    label = "UPDATED: " if alert.kind == "updated" else ""
    lines = [
        f"{_utc(alert.created)} · {alert.watchlist} · {alert.source}",
        f"  {label}{alert.title}",
        f"  matched: {', '.join(distinct_terms(alert.terms)) or '-'}",
    ]
    if alert.also_in:
        lines.append(f"  also in: {', '.join(alert.also_in)}")
    lines.append(f"  {alert.url}")
    return "\n".join(lines)


def as_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "watchlist": alert.watchlist,
        "kind": alert.kind,
        "created": alert.created.isoformat(),
        "published": alert.published and alert.published.isoformat(),
        "source": alert.source,
        "title": alert.title,
        "terms": distinct_terms(alert.terms),
        "snippet": alert.snippet,
        "also_in": list(alert.also_in),
        "url": alert.url,
    }
