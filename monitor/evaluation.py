"""`monitor eval`: score configured watch lists on labelled JSONL items, exactly as the pipeline matches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.config import Settings
from monitor.errors import ConfigError, InputError
from monitor.query import Matcher
from monitor.query.labelled import EvalReport, Verdict, judge, tally
from monitor.records import WatchList
from monitor.workers import usable_cpus

REQUIRED = ("title", "label")
PARALLEL_MIN_LINES = 500  # a shorter file is judged in this process: starting workers would cost more
CHUNK_LINES = 250  # lines per task handed to a worker (small enough to balance the load, large enough to batch)
Chunk = list[tuple[int, str]]  # numbered lines of the file
Verdicts = list[Verdict]  # one item's verdicts, one per selected watch list
Judged = tuple[list[str], list[Verdicts]]  # problems with lines, and the verdicts on the good ones


def read_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a file with their numbers; InputError when it cannot be read or is not UTF-8."""
    try:
        data = path.read_bytes()
        lines = data.decode("utf-8").split("\n")  # not splitlines(): JSON may hold U+2028 or U+0085 unescaped
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); labelled items are "
                         "JSON Lines in UTF-8") from exc
    return [(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def read_item(path: Path, number: int, line: str, problems: list[str]) -> dict[str, Any] | None:
    """The labelled item on line `number`, or None when the line is malformed (reported in `problems`)."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append(f"{path}:{number}: not valid JSON ({exc.msg}); skipped")
        return None
    missing = [k for k in REQUIRED if not isinstance(item, dict) or k not in item]
    if missing or item.get("label") not in (0, 1, True, False):
        problems.append(f"{path}:{number}: needs {', '.join(REQUIRED)} with label 0 or 1; skipped")
        return None
    labelled: dict[str, Any] = item
    labelled.setdefault("id", f"line-{number}")
    return labelled


def as_article(item: dict[str, Any]) -> dict[str, Any]:
    """The item itself, or for one with `html` instead of `text` the page through the article extractor
    first, as a fetched page would go (so sidebars are dropped before matching)."""
    if "text" in item or not isinstance(item.get("html"), str):
        return item
    from monitor.extract import extract_page  # trafilatura: imported only when an item needs it

    page = extract_page(item["html"], str(item.get("url", "")))
    return {**item, "text": page.body, "title": item["title"] or page.title}


def judge_chunk(path: Path, chunk: Chunk, matcher: Matcher, names: Sequence[str]) -> Judged:
    """The problems of a chunk of numbered lines, and the verdicts of the named watch lists on its items."""
    problems: list[str] = []
    verdicts = []
    for number, line in chunk:
        item = read_item(path, number, line, problems)
        if item is not None:
            verdicts.append(judge(as_article(item), number, matcher, names))
    return problems, verdicts


_worker: dict[str, Any] = {}  # in a worker process: the file, its Matcher and the watch-list names


def _start_worker(path: Path, records: list[WatchList], names: list[str]) -> None:
    _worker.update(path=path, matcher=Matcher(records), names=names)


def _judge_in_worker(chunk: Chunk) -> Judged:
    return judge_chunk(_worker["path"], chunk, _worker["matcher"], _worker["names"])


def judge_file(path: Path, records: list[WatchList], names: list[str], jobs: int) -> Judged:
    """A file's problems and every item's verdicts, in file order; over `jobs` processes for a large file."""
    lines = read_lines(path)
    matcher = Matcher(records)  # also warms the stemmer caches that forked workers inherit
    size = max(1, min(CHUNK_LINES, -(-len(lines) // jobs)))
    chunks = [lines[at : at + size] for at in range(0, len(lines), size)]
    with ExitStack() as stack:
        if jobs > 1 and len(lines) >= PARALLEL_MIN_LINES:
            pool = ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(path, records, names))
            results: Iterator[Judged] = stack.enter_context(pool).map(_judge_in_worker, chunks)  # forks now
        else:
            results = (judge_chunk(path, chunk, matcher, names) for chunk in chunks)
        advance = stack.enter_context(progress(len(lines), "evaluating"))
        problems: list[str] = []
        verdicts: list[Verdicts] = []
        for chunk, (found, judged) in zip(chunks, results, strict=True):
            problems += found
            verdicts += judged
            advance(len(chunk))
    return problems, verdicts


@contextmanager
def progress(total: int, doing: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (`doing`, then items done of `total`) for a long run in a terminal; yields the
    function that advances it."""
    console = Console(stderr=True)
    if total < PARALLEL_MIN_LINES or not console.is_terminal:
        yield lambda size: None
        return
    with Progress(TextColumn(doing), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(doing, total=total)
        yield lambda size: bar.advance(task, size)


def _table(title: str, rows: dict[str, Any], key: str) -> Table:
    table = Table(key, "n", "tp", "fp", "fn", "tn", "precision", "recall", "f1", title=title)
    for name, c in sorted(rows.items()):
        defined = {"precision": c["tp"] + c["fp"], "recall": c["tp"] + c["fn"], "f1": c["tp"]}
        figures = (f"{c[k]:.3f}" if defined[k] else "-" for k in ("precision", "recall", "f1"))
        table.add_row(name, *(str(c[k]) for k in ("n", "tp", "fp", "fn", "tn")), *figures)
    return table


def run_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures of each selected watch list; exit 1, saying which, when one falls below --min-*."""
    names = [w.name for w in settings.watchlists]
    if args.watchlist and args.watchlist not in names:
        raise ConfigError(f"unknown watch list {args.watchlist!r}; configured: {', '.join(names)}")
    selected = [args.watchlist] if args.watchlist else names
    problems, verdicts = judge_file(args.file, settings.watchlist_records(), selected, args.jobs or usable_cpus())
    if not verdicts:
        raise InputError(f"{args.file}: no labelled items read; expected JSON Lines, one object per line "
                         f"with {' and '.join(REQUIRED)} (label 0 or 1)")
    for problem in problems:
        print(problem, file=sys.stderr)
    reports = {name: tally(v[k] for v in verdicts) for k, name in enumerate(selected)}
    failed = [f"{name}: {figure} {value:.3f} is below --min-{figure} {limit}"
              for name, report in reports.items()
              for figure, value, limit in (("precision", report.precision, args.min_precision),
                                           ("recall", report.recall, args.min_recall))
              if limit is not None and value < limit]
    if args.json:
        out = {name: r.as_dict() for name, r in reports.items()}
        if not args.errors:
            for value in out.values():
                value.pop("errors")
        print(json.dumps(out[selected[0]] if len(selected) == 1 else out, ensure_ascii=False, indent=2))
    else:
        console = Console()
        for name, report in reports.items():
            print_report(console, name, report, errors=args.errors)
    for failure in failed:
        print(failure, file=sys.stderr)
    return 1 if failed else 0


def print_report(console: Console, name: str, report: EvalReport, errors: bool) -> None:
    """The overall figures, the tables by language and by kind, and optionally the errors."""
    data = report.as_dict()
    console.print(f"[bold]{name}[/]: precision {report.precision:.3f}  recall {report.recall:.3f}  "
                  f"f1 {report.f1:.3f}  (tp {report.tp}, fp {report.fp}, fn {report.fn}, tn {report.tn}, "
                  f"n {report.n})", highlight=False)
    console.print(_table("by language", data["by_lang"], "lang"))
    console.print(_table("by kind", data["by_kind"], "kind"))
    for error in report.errors if errors else ():
        what = "false positive" if error.label == 0 else "false negative"
        console.print(f"{error.id} ({error.lang}, {error.kind}) {what}: p {error.score:.3f} "
                      f"terms {', '.join(error.terms) or '-'} — {error.snippet[:160]}", markup=False)
