"""The `monitor` console script."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import alerts as alerts_command
from monitor import config as config_mod
from monitor import sourcelist
from monitor.durations import spoken
from monitor.errors import ConfigError, InputError, MonitorError, StorageError
from monitor.logs import setup_logging
from monitor.query import Matcher
from monitor.records import PollReport

if TYPE_CHECKING:
    from monitor.service import Service


def _settings(args: argparse.Namespace) -> config_mod.Settings:
    return config_mod.load(args.config)


def _started() -> None:
    """What start-up made (modules, config, watch lists) lives as long as a polling process: it is left out of the
    garbage collector's scans from here on (a warm cycle of 500 feeds spent about 0.04 s scanning it)."""
    gc.freeze()


def cmd_run(args: argparse.Namespace) -> int:
    """The service: in one process on SQLite; on PostgreSQL, the engine's `run` role (the tick, the bot)."""
    settings = _settings(args)
    _started()
    chosen = settings.monitor.logging  # the command line wins over the config's `logging:` section
    setup_logging(args.log_level or chosen.level, args.log_format or chosen.format)
    if settings.database_url or args.command == "worker":
        from monitor.engine import EngineService

        service: Service = EngineService(settings, args.command, health_port=getattr(args, "health_port", None))
    else:
        from monitor.service import Service

        service = Service(settings)
    asyncio.run(service.run())
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    from monitor.notify.console import render_text
    from monitor.once import run_once, select_sources

    settings = _settings(args)
    _started()
    total = len(select_sources(settings, args.sources))
    with _progress(total, quiet=args.quiet) as done:
        result = asyncio.run(run_once(settings, args.sources, dry_run=args.dry_run, on_done=done))
    if args.dry_run:
        for alert in result.alerts:
            print(render_text(alert) + "\n")
    for report in result.failed:
        print(f"{report.source}: {report.error}", file=sys.stderr)
    for report in result.reports:
        for problem in report.article_errors:
            print(f"{report.source}: article {problem}", file=sys.stderr)
    pages = sum(len(r.article_errors) for r in result.reports)
    print(f"{total} source(s) polled, {len(result.failed)} failed, {pages} article page(s) not fetched, "
          f"{len(result.alerts)} alert(s)" + (" (dry run: nothing recorded)" if args.dry_run else ""), file=sys.stderr)
    if total and len(result.failed) == total:
        print("no source could be polled: see why above (the network, the sources' URLs or what they sent)",
              file=sys.stderr)
    return 1 if result.failed or pages else 0


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[PollReport], None] | None]:
    """The polling progress bar on stderr, told of each source done; rich is imported only when it shows."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("[bold]polling"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"))
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=total)

        def done(report: PollReport) -> None:
            progress.update(task, advance=1, description=report.source)

        yield done


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(args.config)


def _health_line(settings: config_mod.Settings) -> str:
    """What source health watches for, and whom it tells (check-config)."""
    health = settings.monitor.source_health
    if not health.enabled:
        return "source health: off"
    if settings.database_url:
        return "source health: off on PostgreSQL (the engine's processes each see only their own polls; not built yet)"
    admins = sum(len(n.options.get("admins") or ()) for n in settings.monitor.notifiers
                 if n.enabled and n.kind == "telegram")
    return (f"source health: silent after {health.silent_factor:g}x a source's usual gap (at least"
            f" {spoken(health.silent_min)}), failing for {spoken(health.failing_after)}, {health.empty_listings}"
            f" empty listings, {health.short_bodies} short bodies; told in the log, /healthz, /metrics"
            f" and to {admins} telegram admin chat(s)")


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    matcher = Matcher(settings.watchlist_records())
    failures = _check_examples(settings, matcher)
    mon = settings.monitor
    print(f"{settings.path}: OK")
    from monitor.store import storage_state

    storage_fails = False
    try:
        print(f"  storage: {storage_state(settings)}")
        print(f"  engine: {_engine_state(settings)}")
    except StorageError as exc:
        print(f"  STORAGE FAILS: {exc}", file=sys.stderr)
        storage_fails = True
    sources = settings.enabled_sources()
    kinds = sorted({s.kind for s in sources})
    by_kind = ", ".join(f"{sum(s.kind == k for s in sources)} {k}" for k in kinds)
    print(f"  sources: {len(sources)} enabled of {len(mon.sources)} ({by_kind})")
    print(f"  default interval {mon.schedule.interval:.0f}s, jitter {mon.schedule.jitter:.0f}s")
    from monitor.workers import worker_count  # imports the extractor: not at start-up

    processes = worker_count(mon.workers)
    print(f"  workers: {mon.workers} ({f'{processes} processes' if processes else 'in the service process'})")
    print(f"  {_health_line(settings)}")
    recheck, paged = mon.page_recheck, sum(s.fetch_article for s in sources)
    rechecked = (f"the alerted pages of {paged} fetch_article source(s), every {spoken(recheck.every)} for"
                 f" {spoken(recheck.during)} after they alerted")
    print(f"  page re-checks: {rechecked if recheck.enabled else 'off'}")
    for wl, model in zip(settings.watchlists, matcher.models, strict=True):
        print(f"  watch list {wl.name}: {len(wl.queries)} queries, {len(wl.exclude)} exclusions, "
              f"threshold {wl.threshold}, {len(wl.examples.match) + len(wl.examples.no_match)} examples")
        cv = model.info.get("cross_validated", {}).get("grouped by site", {})
        made = f"fitted {model.info.get('trained', '?')} on {', '.join(model.info.get('files', [])) or '?'}"
        figures = f"; cross-validated precision {cv['precision']:.3f}, recall {cv['recall']:.3f}" if cv else ""
        print(f"    relevance model: {wl.model or 'the shipped one'} ({made}{figures})")
    states, notifier_fails = _notifier_states(settings)
    for line in states:
        print(f"  notifier {line}")
    for failure in notifier_fails:
        print(f"  NOTIFIER FAILS: {failure}", file=sys.stderr)
    for warning in settings.warnings():
        print(f"  WARNING: {warning}", file=sys.stderr)
    for failure in failures:
        print(f"  EXAMPLE FAILS: {failure}", file=sys.stderr)
    return 1 if failures or storage_fails or notifier_fails else 0


def _engine_state(settings: config_mod.Settings) -> str:
    """What schedules the polls and runs the deliveries: APScheduler in one process, or procrastinate's jobs."""
    if not settings.database_url:
        return "APScheduler in the one `monitor run` process"
    from monitor.store.postgres_engine import engine_state

    return f"{engine_state(settings.database_url)}: `monitor run` and any number of `monitor worker` processes"


def _notifier_states(settings: config_mod.Settings) -> tuple[list[str], list[str]]:
    """Whether each notifier can start (options valid, secrets present), as the service would build it; and the
    problems of invalid options, one `file: notifiers[i].key: message` line each."""
    from monitor.notify import InvalidOptions
    from monitor.notify.roster import build
    from monitor.store import open_store

    store = open_store(settings, in_memory=True)
    lines, failures = [], []
    try:
        for i, cfg in enumerate(settings.monitor.notifiers):
            if not cfg.enabled:
                lines.append(f"{cfg.name} ({cfg.kind}): disabled")
                continue
            try:
                build(cfg, store)
                lines.append(f"{cfg.name} ({cfg.kind}): ready")
            except InvalidOptions as exc:
                lines.append(f"{cfg.name} ({cfg.kind}): invalid options")
                failures.extend(config_mod._describe(exc.located("notifiers", i), settings.path).splitlines())
            except MonitorError as exc:
                lines.append(f"{cfg.name} ({cfg.kind}): waiting: {exc} (its alerts are kept until it can start)")
    finally:
        store.close()
    if not any(line.endswith("ready") for line in lines):
        lines.append("console: alerts are printed as well (no other notifier can start)")
    return lines, failures


def _check_examples(settings: config_mod.Settings, matcher: Matcher) -> list[str]:
    """Watch-list examples that no longer behave as the file says."""
    failures = []
    for wl in settings.watchlists:
        for expected, examples in ((True, wl.examples.match), (False, wl.examples.no_match)):
            for example in examples:
                if isinstance(example, str):
                    title, body = "", example
                else:
                    title, body = example.get("title", ""), example.get("body", "")
                hit = any(m.watchlist == wl.name for m in matcher.match(title, body))
                if hit != expected:
                    what = "should match but does not" if expected else "should not match but does"
                    failures.append(f"{wl.name}: {what}: {(title + ' ' + body).strip()[:120]!r}")
    return failures


# A document is a page (not plain text) when it has a doctype, a comment or one of the elements every page has.
_MARKUP = re.compile(r"<(?:!doctype|!--|html|head|body|title|meta|p|div|br|article|main|section|span|a|h[1-6])[\s/>]",
                     re.IGNORECASE)


def _read_input(target: str) -> tuple[bytes, str]:
    """Bytes and URL of a page given as a file, a URL, or '-' for standard input; InputError when unreadable."""
    if target == "-":
        return sys.stdin.buffer.read(), ""
    if target.startswith(("http://", "https://")):
        return _download(target)
    try:
        return Path(target).read_bytes(), ""
    except OSError as exc:
        raise InputError(f"cannot read {target}: {exc.strerror or exc}") from exc


def _download(url: str) -> tuple[bytes, str]:
    """The body and final URL of `url`, streamed; InputError on failure and as soon as the body passes the
    fetcher's default `max_bytes` (5 MB), the cap of the monitor's own fetches."""
    import httpx

    from monitor.fetch import FetchSettings

    limit = FetchSettings().max_bytes
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
            if response.is_error:
                raise InputError(f"cannot fetch {url}: HTTP {response.status_code} {response.reason_phrase}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise InputError(f"cannot fetch {url}: body larger than {limit} bytes")
            return bytes(body), str(response.url)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise InputError(f"cannot fetch {url}: {str(exc) or type(exc).__name__}") from exc


def cmd_explain(args: argparse.Namespace) -> int:
    from monitor.extract import extract_page
    from monitor.query import explain
    from monitor.sources.text import decode_document

    if (args.query is None) == (args.watchlist is None):
        raise ConfigError("explain needs a QUERY or --watchlist NAME (not both)")
    title = args.title or ""
    if args.text is not None:
        body = args.text
    else:
        raw, url = _read_input(args.file or args.url)
        text = decode_document(raw, is_html=True)
        if _MARKUP.search(text) is None:  # a plain-text file (or response) is the text to judge, not a page
            body = text
        else:
            page = extract_page(text, url)
            body, title = page.body, title or page.title
    if args.watchlist is None:
        explanation = explain(args.query, title, body, args.language)
    else:
        records = {w.name: w for w in _settings(args).watchlist_records()}
        if args.watchlist not in records:
            raise ConfigError(f"unknown watch list {args.watchlist!r}; configured: {', '.join(records)}")
        [explanation] = Matcher([records[args.watchlist]]).explain(title, body, args.language)
    print(explanation.render())
    return 0 if explanation.matched else 1


def cmd_extract(args: argparse.Namespace) -> int:
    from monitor.extract import extract_page
    from monitor.records import Article
    from monitor.urls import canonical_url

    raw, url = _read_input(args.target)
    page = extract_page(raw, url or args.url or "", args.selector)
    empty = not page.body.strip()
    if empty:  # not HTML, or a page without text: exit 1, as grep does when it finds nothing
        print(f"no article text found in {args.target}", file=sys.stderr)
    if not args.json:
        if not empty:
            sys.stdout.write(page.body + "\n")
        return int(empty)
    article = Article(
        url=page.canonical_url or canonical_url(url or args.url or ""),
        source="extract",
        title=page.title,
        body=page.body,
        published=page.published,
        language=page.language,
    )
    print(json.dumps(asdict(article), default=str, ensure_ascii=False, indent=2))
    return int(empty)


def cmd_parse(args: argparse.Namespace) -> int:
    from monitor.parse import run_parse

    return run_parse(args)


def cmd_sources(args: argparse.Namespace) -> int:
    return sourcelist.run_sources(_settings(args), args)


def cmd_alerts(args: argparse.Namespace) -> int:
    return alerts_command.run_alerts(_settings(args), args)


def cmd_redeliver(args: argparse.Namespace) -> int:
    return alerts_command.run_redeliver(_settings(args), args)


def cmd_eval(args: argparse.Namespace) -> int:
    from monitor.evaluation import run_eval

    return run_eval(_settings(args), args)


def cmd_train(args: argparse.Namespace) -> int:
    from monitor.training import run_train

    return run_train(config_mod.load(args.config, models=False), args)  # the model it replaces may not load


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _above_zero(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def _http_url(text: str) -> str:
    """--url, --base: an http(s) URL, as a source's `url` must be."""
    from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

    try:
        TypeAdapter(AnyHttpUrl).validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}") from None
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="ceasefire-monitor: news monitoring and alerts")
    parser.add_argument("--log-level", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="log level (default: the config's logging.level, else INFO)")
    parser.add_argument("--log-format", choices=("text", "json"),
                        help="text for people, json (one object per line) for log shippers (default: text)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--config", help="config file (default $MONITOR_CONFIG or config/monitor.yaml)")
        p.set_defaults(func=func)
        return p

    add("run", cmd_run, "run the service: poll every source on its schedule until SIGTERM/Ctrl-C")
    worker = add("worker", cmd_run, "on PostgreSQL: run poll and delivery jobs beside `monitor run`, until SIGTERM")
    worker.add_argument("--health-port", type=int, help="serve this process's /healthz and /metrics on this port")
    once = add("once", cmd_once, "poll all (or the named) sources once and print the alerts")
    once.add_argument("sources", nargs="*", help="source names (default: all enabled)")
    once.add_argument("--dry-run", action="store_true", help="record nothing, deliver nothing; print alerts")
    once.add_argument("--quiet", action="store_true", help="no progress display")
    add("demo", cmd_demo, "run the whole pipeline once on bundled real feeds served from loopback")
    add("check-config", cmd_check_config, "validate the configuration and explain what it sets up")
    explain = add("explain", cmd_explain, "show whether and why a query (or a watch list) matches a text, file or URL")
    explain.add_argument("query", nargs="?", help="a query (or give --watchlist)")
    explain.add_argument("--watchlist", help="judge with this configured watch list: its exclusions, model, threshold")
    explain.add_argument("--language", help="the text's language (en, ru, hy, az, ...); default: detected")
    where = explain.add_mutually_exclusive_group(required=True)
    where.add_argument("--text")
    where.add_argument("--file")
    where.add_argument("--url")
    explain.add_argument("--title", help="title to match title: terms against")
    sourcelist.configure(add("sources", cmd_sources, "the sources: health, interval, items per day, errors;"
                                                    " one in full (NAME); OPML export and import"))
    alerts_command.configure(add("alerts", cmd_alerts, "recent alerts: outlet, time, matched terms and link"))
    alerts_command.configure_redeliver(add("redeliver", cmd_redeliver, "dead letters (deliveries given up on) owed"
                                           " again"))
    extract = add("extract", cmd_extract, "print the body text extracted from a page (FILE, URL or - for stdin)")
    extract.add_argument("target")
    extract.add_argument("--json", action="store_true", help="print the whole normalised Article as JSON")
    extract.add_argument("--selector", help="CSS selector for the article body (as article_selector)")
    extract.add_argument("--url", type=_http_url, help="the page's URL, to resolve links when reading a file")
    feed = add("parse", cmd_parse, "print the items and Article records a feed yields (FILE, URL or - for stdin)")
    feed.add_argument("target")
    feed.add_argument("--json", action="store_true", help="print the items and articles as JSON")
    feed.add_argument("--base", type=_http_url,
                      help="the feed's URL, to resolve relative links (default: the URL fetched)")
    ev = add("eval", cmd_eval, "score watch lists on labelled JSONL items")
    ev.add_argument("file", type=Path)
    ev.add_argument("--watchlist")
    ev.add_argument("--errors", action="store_true", help="list every false positive and false negative")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--min-precision", type=_fraction, help="exit 1 when a watch list's precision is below this")
    ev.add_argument("--min-recall", type=_fraction, help="exit 1 when a watch list's recall is below this")
    ev.add_argument("--jobs", type=_positive,
                    help="worker processes for a file of 500 items or more (default: the CPUs this process may use)")
    train = add("train", cmd_train, "fit a watch list's relevance model on labelled JSONL files (cross-validated)")
    train.add_argument("files", type=Path, nargs="+", metavar="FILE.jsonl")
    train.add_argument("--watchlist", help="the watch list (needed when several are configured)")
    train.add_argument("--out", type=Path, required=True, help="where to write the model file (JSON)")
    train.add_argument("--strength", type=_above_zero, default=0.3,
                       help="inverse L2 penalty of the logistic regression (scikit-learn's C; default 0.3)")
    train.add_argument("--repeats", type=_positive, default=5,
                       help="shuffles of the grouped folds whose figures' range is reported (default 5)")
    train.add_argument("--json", action="store_true", help="print the figures and the model as JSON")
    train.add_argument("--dry-run", action="store_true", help="report the figures, write nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.log_level or "INFO", args.log_format or "text")
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's flush at exit
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `monitor ... | head -1`: the reader went away; end quietly, as rich's tables do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is still buffered goes nowhere
        return 1
    except KeyboardInterrupt:
        return 130
    return code

