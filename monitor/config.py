"""Configuration: pydantic models for `config/monitor.yaml` and `config/watchlists/*.yaml`.

Errors name the file, the key path and what was expected; nothing starts on an invalid config.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.cadence import Bounds
from monitor.durations import Seconds, spoken
from monitor.errors import ConfigError, QuerySyntaxError
from monitor.fetch import FetchSettings
from monitor.notify import NOTIFIER_KINDS
from monitor.query import DEFAULT_THRESHOLD, parse
from monitor.query.model import load_model
from monitor.records import WatchList
from monitor.sources import SOURCE_KINDS
from monitor.sources.selectors import CssSelector

DEFAULT_CONFIG = Path("config/monitor.yaml")


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


DEFAULT_INTERVAL_MIN = 60.0  # adaptive bounds when neither `interval` nor bounds are set (see `Settings.bounds`)
DEFAULT_INTERVAL_MAX = 3600.0


class ScheduleConfig(Strict):
    interval: Seconds = 300.0  # the first interval of an adaptive source; without bounds, a fixed interval
    interval_min: Seconds | None = None
    interval_max: Seconds | None = None
    jitter: Seconds = 30.0
    misfire_grace: Seconds = 120.0


class FetchConfig(FetchSettings):
    """The `fetch:` section: the fetcher's own settings, and the backoff of a source whose polls fail."""

    backoff_base: Seconds = 60.0
    backoff_cap: Seconds = 6 * 3600.0


class WithOptions(BaseModel):
    """Base of a source or notifier: keys besides the declared ones are its kind's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SourceConfig(WithOptions):
    """One polled source; `kind` names a registered source kind (`feed`, `html`), whose model checks the
    source's options when the config is loaded (an unknown key is an error)."""

    name: str = Field(min_length=1, pattern=r"^[\w.\-]+$")
    kind: str = "feed"
    url: AnyHttpUrl
    interval: Seconds | None = None  # default: schedule.interval; without bounds of its own, a fixed interval
    interval_min: Seconds | None = None  # default: schedule.interval_min
    interval_max: Seconds | None = None  # default: schedule.interval_max
    jitter: Seconds | None = None  # default: schedule.jitter
    fetch_article: bool = False
    article_selector: CssSelector | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    language: str | None = None
    watchlists: Annotated[tuple[str, ...], Field(min_length=1)] | None = None  # default: every watch list
    enabled: bool = True
    allow_private: bool = False  # follow article links, and the feed's redirects, to private/loopback addresses
    max_articles: int = Field(30, ge=1)  # article pages fetched per poll at most

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        return SOURCE_KINDS.known(kind)

    @model_validator(mode="after")
    def _kind_options(self) -> SourceConfig:
        SOURCE_KINDS[self.kind].options.model_validate(self.options)  # its errors name the source's key
        return self


class NotifierConfig(WithOptions):
    """A notifier instance; keys besides name/kind/enabled are the kind's own options (checked when it is built)."""

    name: str = Field(min_length=1)
    kind: str
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        return NOTIFIER_KINDS.known(kind)


class StorageConfig(Strict):
    """SQLite at `path` (the default), or the PostgreSQL database at `url` (postgresql://user:password@host/dbname),
    which `$MONITOR_DATABASE_URL` replaces (a password can then stay out of the file)."""

    path: str = "../data/monitor.sqlite3"  # relative to the config file's folder
    url: str | None = None


class EngineConfig(Strict):
    """The engine on PostgreSQL (`monitor.engine`; SQLite runs APScheduler in one process and ignores this)."""

    concurrency: int = Field(default=20, ge=1, le=1000)  # jobs (polls, deliveries) one process runs at once
    heartbeat: Seconds = Field(default=2.0, gt=0)  # how often each process says it lives
    stalled_after: Seconds = Field(default=10.0, gt=0)  # a process silent this long is dead: its jobs are retried


class HealthConfig(Strict):
    """The /healthz, /metrics and status page endpoint; loopback only unless `host` says otherwise."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535)  # 0: any free port
    stale_after: Seconds | None = None  # default: 2 x the shortest source interval + misfire grace
    status_page: bool | None = None  # GET /, the status page; default: served on a loopback host only


class LoggingConfig(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ReloadConfig(Strict):
    watch: bool = True  # re-apply the config when a YAML file under its folder changes
    interval: Seconds = Field(default=2.0, gt=0)  # how often file times are checked


class RetentionConfig(Strict):
    max_age: Seconds = 90 * 86400.0  # articles, versions and delivered alerts older than this are pruned
    every: Seconds = Field(default=86400.0, gt=0)  # how often pruning runs


class SourceHealthConfig(Strict):
    """`source_health:`: when the admins hear that a source stopped working (see `monitor.sourcehealth`)."""

    enabled: bool = True
    check_every: Seconds = Field(default=60.0, gt=0)  # how often problems are reviewed (and told, together)
    silent_factor: float = Field(default=5.0, gt=1)  # silent for this many times its usual gap between new items
    silent_min: Seconds = 3 * 3600.0  # ... and at least this long
    failing_after: Seconds = 3600.0  # a source failing for this long
    empty_listings: int = Field(default=2, ge=1)  # html listings in a row whose link_selector matched nothing
    short_bodies: int = Field(default=3, ge=1)  # extracted bodies in a row empty or under short_ratio of the usual
    short_ratio: float = Field(default=0.3, gt=0, lt=1)


class PageRecheckConfig(Strict):
    """`page_recheck:`: an alerted article's page is read again for edits its feed entry does not show."""

    enabled: bool = True
    every: Seconds = Field(default=900.0, gt=0)  # each page at most this often
    during: Seconds = 86400.0  # for this long after the article first alerted
    max_pages: int = Field(default=50, ge=1)  # pages re-checked in one round at most (the rest wait)


class Examples(Strict):
    match: list[str | dict[str, str]] = Field(default_factory=list)
    no_match: list[str | dict[str, str]] = Field(default_factory=list)


class WatchListConfig(Strict):
    """One file under config/watchlists/."""

    name: str = Field(min_length=1, pattern=r"^[\w.\-]+$")
    description: str = ""
    threshold: float = Field(DEFAULT_THRESHOLD, ge=0, le=1)  # the relevance probability a match needs
    model: str | None = None  # relevance model file, relative to the watch-list file (default: the shipped one)
    queries: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    examples: Examples = Field(default_factory=Examples)

    def record(self) -> WatchList:
        return WatchList(
            name=self.name,
            queries=tuple(self.queries),
            exclude=tuple(self.exclude),
            description=self.description,
            threshold=self.threshold,
            model=self.model,
        )


class MonitorConfig(Strict):
    """The whole of config/monitor.yaml."""

    storage: StorageConfig = Field(default_factory=StorageConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    reload: ReloadConfig = Field(default_factory=ReloadConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    source_health: SourceHealthConfig = Field(default_factory=SourceHealthConfig)
    page_recheck: PageRecheckConfig = Field(default_factory=PageRecheckConfig)
    # processes for parsing, extraction and matching: 0 = in the service process, "auto" = one per core but one
    workers: Annotated[int, Field(ge=0, le=64)] | Literal["auto"] = 0
    watchlists: list[str] = Field(default_factory=lambda: ["watchlists/*.yaml"])
    notifiers: list[NotifierConfig] = Field(default_factory=lambda: [NotifierConfig(name="console", kind="console")])
    sources: list[SourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> MonitorConfig:
        named = (("sources", [s.name for s in self.sources]), ("notifiers", [n.name for n in self.notifiers]))
        for what, names in named:
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} name(s): {', '.join(dupes)}")
        for where, bounds in [("schedule", _schedule_bounds(self.schedule))] + [
            (f"sources[{i}] ({s.name})", source_bounds(self.schedule, s)) for i, s in enumerate(self.sources)
        ]:
            if bounds.lo <= 0:
                raise ValueError(f"{where}: the polling interval (interval, interval_min) must be more than 0 seconds")
            if bounds.lo > bounds.hi:
                raise ValueError(f"{where}: interval_min ({spoken(bounds.lo)}) is above interval_max"
                                 f" ({spoken(bounds.hi)}); a bound not set comes from schedule or the default"
                                 f" {spoken(DEFAULT_INTERVAL_MIN)}..{spoken(DEFAULT_INTERVAL_MAX)}")
        return self


def _schedule_bounds(schedule: ScheduleConfig) -> Bounds:
    """`schedule:`'s bounds: its interval_min/max (each defaulting), else fixed at an `interval` it sets, else
    the default bounds."""
    if schedule.interval_min is None and schedule.interval_max is None and "interval" in schedule.model_fields_set:
        return Bounds(schedule.interval, schedule.interval, schedule.interval)
    lo = DEFAULT_INTERVAL_MIN if schedule.interval_min is None else schedule.interval_min
    hi = DEFAULT_INTERVAL_MAX if schedule.interval_max is None else schedule.interval_max
    return Bounds(lo, hi, min(hi, max(lo, schedule.interval)))


def source_bounds(schedule: ScheduleConfig, source: SourceConfig) -> Bounds:
    """A source's bounds: its own interval_min/max (a missing one from `schedule:`), else fixed at its own
    `interval`, else `schedule:`'s."""
    default = _schedule_bounds(schedule)
    if source.interval_min is None and source.interval_max is None:
        if source.interval is not None:
            return Bounds(source.interval, source.interval, source.interval)
        return default
    lo = default.lo if source.interval_min is None else source.interval_min
    hi = default.hi if source.interval_max is None else source.interval_max
    start = schedule.interval if source.interval is None else source.interval
    return Bounds(lo, hi, min(hi, max(lo, start)))


class Settings(BaseModel):
    """A loaded configuration: the main file, its watch lists, and where they came from."""

    model_config = ConfigDict(frozen=True)

    path: Path
    monitor: MonitorConfig
    watchlists: tuple[WatchListConfig, ...]

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def db_path(self) -> Path:
        """The database file; a relative `storage.path` is relative to the config file's folder."""
        path = Path(self.monitor.storage.path)
        return path if path.is_absolute() else self.root / path

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL database that holds the store (`$MONITOR_DATABASE_URL`, else `storage.url`); None: SQLite
        at `db_path`. It may hold a password: print it only through `monitor.store.postgres.describe`."""
        return os.environ.get("MONITOR_DATABASE_URL") or self.monitor.storage.url

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.monitor.sources if s.enabled]

    def source_bounds(self, source: SourceConfig) -> Bounds:
        """The interval bounds of a source (see `source_bounds`)."""
        return source_bounds(self.monitor.schedule, source)

    def source_interval(self, source: SourceConfig) -> float:
        """The interval a source starts with (its polls then adapt it within its bounds)."""
        return self.source_bounds(source).start

    def source_jitter(self, source: SourceConfig) -> float:
        return source.jitter if source.jitter is not None else self.monitor.schedule.jitter

    def stale_after(self) -> float:
        """Seconds without a poll job after which /healthz fails."""
        if self.monitor.health.stale_after is not None:
            return self.monitor.health.stale_after
        intervals = [self.source_bounds(s).hi for s in self.enabled_sources()] or [self.monitor.schedule.interval]
        return 2 * min(intervals) + self.monitor.schedule.misfire_grace

    def watchlist_records(self) -> list[WatchList]:
        return [w.record() for w in self.watchlists]

    def warnings(self) -> list[str]:
        """What the config sets up that an operator may not expect (check-config prints them)."""
        return [
            f"source {s.name}: an html listing without fetch_article: only its link titles are matched"
            for s in self.enabled_sources()
            if s.kind == "html" and not s.fetch_article
        ]


def config_path(explicit: str | Path | None = None) -> Path:
    """`--config PATH`, else `$MONITOR_CONFIG`, else `config/monitor.yaml`."""
    return Path(explicit or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)


def health_url(path: str | Path | None = None) -> str:
    """The /healthz address the service listens on by the config's `health:` section (the container's
    healthcheck asks there); only that section is read, so a rejected edit elsewhere does not hide it."""
    file = config_path(path)
    data = _read_yaml(file)
    try:
        health = HealthConfig.model_validate((data if isinstance(data, dict) else {}).get("health") or {})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None
    if not health.enabled or health.port == 0:
        raise ConfigError(f"{file}: health: no fixed /healthz address (enabled: false, or port 0)")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(health.host, health.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{health.port}/healthz"


def _describe(error: ValidationError, file: Path) -> str:
    lines = []
    for item in error.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(".") or "(top level)"
        got = item.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        lines.append(f"{file}: {where}: {item['msg']}{shown}")
    return "\n".join(lines)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the same documents, about 6x faster
YAML_DEPTH = 100  # no configuration nests deeper; libyaml alone would take 1,000 levels
# Values in a document, an alias counted each time it is used: far more than a config of 100,000 sources holds,
# far fewer than a "billion laughs" of aliases of aliases expands to (which would take hours to validate).
YAML_VALUES = 5_000_000


def _shape_error(data: Any) -> str | None:
    """What makes loaded YAML unusable, without recursing: an alias inside itself, nesting deeper than
    YAML_DEPTH, or more than YAML_VALUES values once aliases are expanded; None when it is fine.

    Each list and mapping is walked once (an alias shares the object), its size and depth kept by its id."""
    shapes: dict[int, tuple[int, int]] = {}  # id of a finished list or mapping -> (values, depth)
    walking: set[int] = set()  # ids of those whose children are being walked
    todo: list[tuple[Any, bool]] = [(data, False)]
    while todo:
        value, finished = todo.pop()
        if not isinstance(value, dict | list) or (not finished and id(value) in shapes):
            continue
        children = [c for c in (value.values() if isinstance(value, dict) else value) if isinstance(c, dict | list)]
        if finished:
            walking.discard(id(value))
            found = [shapes[id(c)] for c in children]
            count = 1 + 2 * len(value) - len(children) if isinstance(value, dict) else 1 + len(value) - len(children)
            shapes[id(value)] = (count + sum(n for n, _ in found), 1 + max((d for _, d in found), default=0))
            if shapes[id(value)][1] > YAML_DEPTH:
                return "nested too deeply"
            if shapes[id(value)][0] > YAML_VALUES:
                return f"more than {YAML_VALUES:,} values once its aliases are expanded"
            continue
        if id(value) in walking:
            return "an alias refers to the list or mapping it is in"
        walking.add(id(value))
        todo.append((value, True))
        todo.extend((child, False) for child in children)
    return None


def _read_yaml(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    data: Any = None
    problem: str | None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
        problem = _shape_error(data)
    except RecursionError:
        problem = "nested too deeply"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{file}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if problem:
        raise ConfigError(f"{file}: not valid YAML: {problem}")
    return data


def _watchlist_files(config: Path, patterns: list[str]) -> Iterator[Path]:
    root = config.parent
    for pattern in patterns:
        found = sorted(root.glob(pattern))
        if not found:
            raise ConfigError(f"{config}: watchlists: no file matches {pattern!r} under {root}")
        yield from found


def load_watchlist(file: Path, models: bool = True) -> WatchListConfig:
    """One watch-list file, checked; its `model:` read too unless `models` is False (`monitor train`, which
    replaces the model, must run when the old one no longer loads)."""
    data = _read_yaml(file)
    try:
        watchlist = WatchListConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None
    for key, queries in (("queries", watchlist.queries), ("exclude", watchlist.exclude)):
        for i, query in enumerate(queries):
            try:
                parse(query)
            except QuerySyntaxError as exc:
                raise ConfigError(f"{file}: {key}[{i}]: {exc}") from None
    if watchlist.model is not None:
        model = file.parent / watchlist.model
        if models:
            load_model(model)  # a ConfigError naming the file when it is missing or not a model
        watchlist = watchlist.model_copy(update={"model": str(model.resolve())})
    return watchlist


def load(path: str | Path | None = None, *, models: bool = True) -> Settings:
    """Load and validate the configuration; raise ConfigError naming the file and key on any problem
    (`models=False`: the watch lists' model files are not read)."""
    file = config_path(path)
    data = _read_yaml(file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of keys (storage, schedule, sources, ...) at the top level")
    try:
        monitor = MonitorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None
    watchlists = tuple(load_watchlist(f, models) for f in _watchlist_files(file, monitor.watchlists))
    names = [w.name for w in watchlists]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{file}: watchlists: duplicate watch-list name(s): {', '.join(dupes)}")
    for i, source in enumerate(monitor.sources):
        unknown = [n for n in source.watchlists or () if n not in names]
        if unknown:
            raise ConfigError(f"{file}: sources[{i}].watchlists: source {source.name} names unknown watch list(s) "
                              f"{', '.join(unknown)} (configured: {', '.join(names)})")
    return Settings(path=file, monitor=monitor, watchlists=watchlists)

