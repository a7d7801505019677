"""Source health: what each source usually does, and the problems the operator must hear of when it stops doing it.

Pure policy, no I/O. `SourceWatch` is fed one `Observation` per poll and learns, per source, the usual gap between
its new items (from the store's count of the last week, as adaptive polling counts them), the usual length of the
article bodies extracted for it, since when it fails and how many listings in a row matched no link. `review` then
opens and clears `Problem`s: a feed silent for several times its usual gap, a listing's `link_selector` matching
nothing, extraction giving empty or much shorter bodies, a source failing for longer than allowed, and every source
failing at once (one problem for them all; the sources' own "failing" problems wait while it lasts). Each problem
is told once when it opens and once when it clears (`Change`). Everything it keeps is JSON (`dirty`, and the
`saved` states it starts from), so a restart neither forgets a problem nor announces it again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.durations import spoken

WEEK = timedelta(days=7)
EVERY_SOURCE = ""  # the key of what concerns every source at once
EVERYTHING = "everything"  # that problem's kind
BODY_WEIGHT = 0.2  # how much one normal body moves the usual length (an exponential moving average)
TIMED = ("failing", "silent")  # the problems a source has for how long something lasted
BODIES_LEARNT = 5  # normal bodies seen before a short one counts as short (an empty one always does)
CLEARED = {
    "failing": "source {source} works again",
    "silent": "source {source} brings new items again",
    "selector": "source {source}: its link_selector matches links again",
    "extraction": "source {source}: extracted article bodies are back to their usual length",
    EVERYTHING: "sources work again: a poll succeeded",
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a source has a problem (the config's `source_health:`)."""

    silent_factor: float = 5.0  # silent for this many times its usual gap between new items ...
    silent_min: float = 3 * 3600.0  # ... and at least this long
    failing_after: float = 3600.0  # failing for this long
    empty_listings: int = 2  # html listings in a row on which the link_selector matched nothing
    short_bodies: int = 3  # extracted bodies in a row empty or shorter than short_ratio of the usual length
    short_ratio: float = 0.3
    week_items: int = 3  # new items in a week it takes to learn a usual gap (fewer: silence is not judged)


@dataclass(frozen=True, slots=True)
class Observation:
    """One poll of one source, as far as its health goes."""

    source: str
    at: datetime
    error: str | None = None  # the poll failed (not for a listing whose selector matched nothing)
    listing_empty: bool = False  # an html listing was read and its link_selector matched nothing
    bodies: tuple[int, ...] = ()  # characters of each article body extracted
    new_items: int = 0
    week_items: int | None = None  # the store's new items of the source in the last week (None: not counted)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a source (`source` "": with every source), open since `since`."""

    source: str
    kind: str  # failing, silent, selector, extraction, everything
    since: datetime
    message: str


@dataclass(frozen=True, slots=True)
class Change:
    """A problem to tell the operator of: it opened, or it cleared (`text` says which, in words)."""

    problem: Problem
    cleared: bool
    text: str


@dataclass
class _Open:
    since: datetime
    message: str
    announced: bool = False


_TIMES = ("last_new", "failing_since")  # the fields of a _Record kept as ISO-8601 text, and the others kept as they are
_PLAIN = ("usual_gap", "error", "empty_listings", "usual_body", "bodies_seen", "short_run", "last_short")


@dataclass
class _Record:
    """What is known of one source (or, under EVERY_SOURCE, of all of them: its problems alone)."""

    usual_gap: float | None = None  # seconds between new items, as last learnt
    last_new: datetime | None = None  # the last poll that brought a new item (or when watching began)
    failing_since: datetime | None = None
    error: str | None = None
    empty_listings: int = 0
    usual_body: float | None = None
    bodies_seen: int = 0
    short_run: int = 0
    last_short: int = 0
    problems: dict[str, _Open] = field(default_factory=dict)
    polled: bool = False  # polled by this process: only then is its silence or failing judged (not kept)

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = {k: _iso(getattr(self, k)) for k in _TIMES} | {k: getattr(self, k) for k in _PLAIN}
        data["problems"] = {kind: {"since": p.since.isoformat(), "message": p.message, "announced": p.announced}
                            for kind, p in self.problems.items()}
        return data

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> _Record:
        """A dumped record; KeyError, TypeError or ValueError when it is not one."""
        problems = {kind: _Open(datetime.fromisoformat(p["since"]), str(p["message"]), bool(p["announced"]))
                    for kind, p in dict(data["problems"]).items()}
        return cls(last_new=_time(data["last_new"]), failing_since=_time(data["failing_since"]), problems=problems,
                   **{k: data[k] for k in _PLAIN})


class SourceWatch:
    """Every source's health: `observe` each poll, `review` now and then, save what `dirty` returns."""

    def __init__(self, thresholds: Thresholds, saved: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.thresholds = thresholds
        self._records: dict[str, _Record] = {}
        self._dirty: set[str] = set()
        for key, data in (saved or {}).items():
            try:
                self._records[key] = _Record.load(data)
            except (KeyError, TypeError, ValueError):  # a state this version cannot read: learn it again
                self._dirty.add(key)

    def observe(self, seen: Observation) -> None:
        """Learn from one poll of a source."""
        record = self._records.setdefault(seen.source, _Record(last_new=seen.at))
        record.polled = True
        self._dirty.add(seen.source)
        if seen.listing_empty:
            record.empty_listings += 1
            return
        if seen.error is not None:
            record.failing_since, record.error = record.failing_since or seen.at, seen.error
            return
        record.failing_since, record.error, record.empty_listings = None, None, 0
        if seen.new_items:
            record.last_new = seen.at
            if seen.week_items is not None and seen.week_items >= self.thresholds.week_items:
                record.usual_gap = WEEK.total_seconds() / seen.week_items
        for length in seen.bodies:
            self._body(record, length)

    def _body(self, record: _Record, length: int) -> None:
        usual = record.usual_body
        learnt = usual is not None and record.bodies_seen >= BODIES_LEARNT
        if length == 0 or (learnt and usual is not None and length < self.thresholds.short_ratio * usual):
            record.short_run, record.last_short = record.short_run + 1, length
            return
        record.short_run = 0
        record.usual_body = length if usual is None else usual + BODY_WEIGHT * (length - usual)
        record.bodies_seen += 1

    def review(self, now: datetime, enabled: Collection[str], everything: str | None) -> list[Change]:
        """Open and clear problems as of `now` for the `enabled` sources (the others are forgotten); `everything`:
        why every source fails at once, or None. Returns what to tell, each problem once as it opens and once as it
        clears; a source's "failing" waits untold while every source fails (that one problem says it)."""
        for key in [k for k in self._records if k != EVERY_SOURCE and k not in enabled]:
            del self._records[key]
            self._dirty.add(key)
        changes = self._settle(EVERY_SOURCE, {EVERYTHING: (now, everything)} if everything else {}, now, False)
        hold = everything is not None
        for name in enabled:
            if name in self._records:
                changes += self._settle(name, self._wrong(name, self._records[name], now), now, hold)
        return changes

    def _settle(self, key: str, wrong: dict[str, tuple[datetime, str]], now: datetime, hold: bool) -> list[Change]:
        """Bring a record's open problems in line with what is `wrong` now (kind: since, message)."""
        record = self._records.get(key)
        if record is None:
            if not wrong:
                return []
            record = self._records[key] = _Record()
        changes: list[Change] = []
        for kind in [k for k in record.problems if k not in wrong]:
            gone = record.problems.pop(kind)
            self._dirty.add(key)
            if gone.announced:
                text = f"{CLEARED[kind].format(source=key)} (after {_ago(now, gone.since)})"
                changes.append(Change(Problem(key, kind, gone.since, gone.message), True, text))
        for kind, (since, message) in wrong.items():
            problem = record.problems.setdefault(kind, _Open(since, message))
            if not problem.announced and not (hold and kind == "failing"):
                problem.announced, problem.message = True, message
                self._dirty.add(key)
                changes.append(Change(Problem(key, kind, problem.since, message), False, message))
        return changes

    def _wrong(self, name: str, record: _Record, now: datetime) -> dict[str, tuple[datetime, str]]:
        """What is wrong with a source now: kind -> (since, message). How long it has been silent or failing is judged
        once it was polled again after a restart: the time the service was down says nothing of the source."""
        limits, wrong = self.thresholds, {}
        failing = record.failing_since if record.polled else None
        if failing is not None and (now - failing).total_seconds() >= limits.failing_after:
            wrong["failing"] = (failing, f"source {name} has failed for {_ago(now, failing)}: {record.error}")
        gap, last = record.usual_gap, record.last_new
        if record.polled and failing is None and gap is not None and last is not None:
            quiet = (now - last).total_seconds()
            if quiet >= max(limits.silent_min, limits.silent_factor * gap):
                wrong["silent"] = (last, f"source {name} is silent: nothing new for {_ago(now, last)}, where it"
                                         f" usually brings a new item every {spoken(round(gap))}")
        if record.empty_listings >= limits.empty_listings:
            wrong["selector"] = (now, f"source {name}: its link_selector matched no link on the listing page in"
                                      f" {record.empty_listings} polls in a row (did the site change its layout?)")
        if not record.polled:  # not judged again until it is polled: what was open stays open
            wrong |= {kind: (p.since, p.message) for kind, p in record.problems.items() if kind in TIMED}
        if record.short_run >= limits.short_bodies:
            what = "empty" if record.last_short == 0 else f"short ({record.last_short} characters)"
            usual = f", usually about {record.usual_body:.0f}" if record.usual_body else ""
            wrong["extraction"] = (now, f"source {name}: article extraction gave {what} bodies for the last"
                                        f" {record.short_run} pages{usual}: check its article_selector")
        return wrong

    def problems(self) -> list[Problem]:
        """The problems told and not cleared yet, every source's first."""
        return [Problem(key, kind, p.since, p.message) for key, record in sorted(self._records.items())
                for kind, p in record.problems.items() if p.announced]

    def dirty(self) -> dict[str, dict[str, Any] | None]:
        """The states changed since the last call, to keep (None: forget), by key."""
        out = {key: self._records[key].dump() if key in self._records else None for key in sorted(self._dirty)}
        self._dirty.clear()
        return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _ago(now: datetime, since: datetime) -> str:
    """The time from `since` to `now` in whole seconds, as the config writes durations."""
    return spoken(round((now - since).total_seconds()))
