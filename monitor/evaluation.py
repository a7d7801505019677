"""`monitor eval`: score configured watch lists on labelled JSONL items, exactly as the pipeline matches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.extract import extract_page
from monitor.query import EvalReport, Matcher, evaluate

REQUIRED = ("title", "label")


def read_labelled(path: Path, problems: list[str]) -> Iterator[dict[str, Any]]:
    """Items of a JSONL file; a malformed line is reported in `problems` with its number and skipped.

    An item with `html` instead of `text` goes through the article extractor first, as a fetched
    page would, so sidebars are dropped before matching.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}); skipped")
            continue
        missing = [k for k in REQUIRED if not isinstance(item, dict) or k not in item]
        if missing or item.get("label") not in (0, 1, True, False):
            problems.append(f"{path}:{number}: needs {', '.join(REQUIRED)} with label 0 or 1; skipped")
            continue
        if "text" not in item and isinstance(item.get("html"), str):
            page = extract_page(item["html"], str(item.get("url", "")))
            item = {**item, "text": page.body, "title": item["title"] or page.title}
        item.setdefault("id", f"line-{number}")
        yield item


def _table(title: str, rows: dict[str, Any], key: str) -> Table:
    table = Table(key, "n", "tp", "fp", "fn", "tn", "precision", "recall", "f1", title=title)
    for name, c in sorted(rows.items()):
        defined = {"precision": c["tp"] + c["fp"], "recall": c["tp"] + c["fn"], "f1": c["tp"]}
        figures = (f"{c[k]:.3f}" if defined[k] else "-" for k in ("precision", "recall", "f1"))
        table.add_row(name, *(str(c[k]) for k in ("n", "tp", "fp", "fn", "tn")), *figures)
    return table


def run_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures of each selected watch list; exit 1 when one falls below --min-*."""
    names = [w.name for w in settings.watchlists]
    if args.watchlist and args.watchlist not in names:
        raise ConfigError(f"unknown watch list {args.watchlist!r}; configured: {', '.join(names)}")
    selected = [args.watchlist] if args.watchlist else names
    problems: list[str] = []
    items = list(read_labelled(args.file, problems))
    for problem in problems:
        print(problem, file=sys.stderr)
    matcher = Matcher(settings.watchlist_records())
    reports: dict[str, EvalReport] = {name: evaluate(items, matcher, name) for name in selected}
    failed = False
    for report in reports.values():
        failed |= args.min_precision is not None and report.precision < args.min_precision
        failed |= args.min_recall is not None and report.recall < args.min_recall
    if args.json:
        out = {name: r.as_dict() for name, r in reports.items()}
        if not args.errors:
            for value in out.values():
                value.pop("errors")
        print(json.dumps(out[selected[0]] if len(selected) == 1 else out, ensure_ascii=False, indent=2))
        return 1 if failed else 0
    console = Console()
    for name, report in reports.items():
        data = report.as_dict()
        console.print(f"[bold]{name}[/]: precision {report.precision:.3f}  recall {report.recall:.3f}  "
                      f"f1 {report.f1:.3f}  (tp {report.tp}, fp {report.fp}, fn {report.fn}, tn {report.tn}, "
                      f"n {report.n})", highlight=False)
        console.print(_table("by language", data["by_lang"], "lang"))
        console.print(_table("by kind", data["by_kind"], "kind"))
        if args.errors:
            for error in report.errors:
                what = "false positive" if error.label == 0 else "false negative"
                console.print(f"{error.id} ({error.lang}, {error.kind}) {what}: score {error.score:.2f} "
                              f"terms {', '.join(error.terms) or '-'} — {error.snippet[:160]}", markup=False)
    return 1 if failed else 0
