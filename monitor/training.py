"""`monitor train`: fit a watch list's relevance model on labelled JSONL files and say how well it generalises.

Every item goes through the watch list exactly as the pipeline matches it; the candidates (a query
matched, no exclusion vetoed) give the model its rows. The figures printed are cross-validated:
folds grouped by source site (no site is in a fold's training and test part at once), and again
leaving one language out, so they say how the model does on sites and languages it never saw.
Items the queries do not find count as negatives predicted negative (a miss when labelled 1).
scikit-learn is needed here only (``pip install 'ceasefire-monitor[train]'``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from monitor.config import Settings
from monitor.errors import ConfigError, InputError
from monitor.evaluation import as_article, print_report, progress, read_item, read_lines
from monitor.query import Matcher
from monitor.query.features import NAMES, features
from monitor.query.labelled import EvalReport, Verdict, item_document, item_groups, tally
from monitor.query.matcher import mention_tokens
from monitor.query.model import RelevanceModel
from monitor.records import WatchList

FOLDS = 5
SEED = 20261201
HOST = re.compile(r"(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*", re.IGNORECASE)  # a bare host name: news.am, www.bbc.co.uk


@dataclass(slots=True)
class Row:
    """One labelled item as the watch list sees it: its features when a query matched (else None), and
    whether an exclusion vetoed it (then it is never predicted a match, but its features still teach
    the model what a false friend looks like, for languages the exclusions do not cover)."""

    id: str
    file: str
    label: int
    lang: str
    kind: str
    site: str
    values: dict[str, float] | None
    excluded: bool = False

    @property
    def candidate(self) -> bool:
        """Whether the queries pass it to the model: a query matched and no exclusion vetoed."""
        return self.values is not None and not self.excluded


def site_of(item: dict[str, Any], path: Path) -> str:
    """The item's source site, for grouping folds: the host of its address or the bare host name it is
    (``www.`` dropped), or for a ``feedfile#link`` source with a relative link, the feed file; else the
    file the item came from."""
    source = str(item.get("source") or "")
    feed, _, link = source.partition("#") if "#" in source and "://" not in source.split("#")[0] else ("", "", source)
    host = urlsplit(link).hostname or (link.lower() if HOST.fullmatch(link) else "")
    return host.removeprefix("www.") or feed or path.name


def read_rows(paths: Sequence[Path], watchlist: WatchList) -> list[Row]:
    """The labelled items of ``paths`` through ``watchlist``; ConfigError listing malformed lines."""
    matcher = Matcher([watchlist])
    rows: list[Row] = []
    problems: list[str] = []
    lines = [(path, number, line) for path in paths for number, line in read_lines(path)]
    with progress(len(lines), "matching") as advance:
        for path, number, line in lines:
            advance(1)
            item = read_item(path, number, line, problems)
            if item is None:
                continue
            item = as_article(item)
            doc = item_document(item)
            outcome = next(iter(matcher.outcomes(doc)), None)
            values = None
            if outcome is not None and outcome.queries:
                values = features(doc, mention_tokens(outcome.spans), len(outcome.queries)).values
            label = int(item["label"])
            lang, kind = item_groups(item)
            rows.append(Row(str(item.get("id", f"{path.name}:{number}")), path.name, label, lang, kind,
                            site_of(item, path), values, outcome is not None and outcome.excluded_by is not None))
    if problems:
        raise ConfigError("malformed labelled lines:\n  " + "\n  ".join(problems[:20]))
    return rows


def fit(rows: Sequence[Row], strength: float) -> RelevanceModel:
    """A logistic regression on the rows a query matched, vetoed ones included (standardised features, L2)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    candidates = [r for r in rows if r.values is not None]
    labels = [r.label for r in candidates]
    if len(set(labels)) < 2:
        found = "no candidates" if not labels else f"only label {labels[0]}"
        raise ConfigError(f"the watch list's queries find {found} in the labelled items: a model needs both labels")
    matrix = [[r.values[n] for n in NAMES] for r in candidates if r.values is not None]
    scaler = StandardScaler().fit(matrix)
    scale = [float(s) if s > 0 else 1.0 for s in scaler.scale_]
    standard = [[(v - m) / s for v, m, s in zip(row, scaler.mean_, scale, strict=True)] for row in matrix]
    regression = LogisticRegression(C=strength, max_iter=1000).fit(standard, labels)
    return RelevanceModel(NAMES, tuple(float(m) for m in scaler.mean_), tuple(scale),
                          tuple(float(w) for w in regression.coef_[0]), float(regression.intercept_[0]))


def predict(model: RelevanceModel, rows: Sequence[Row], threshold: float) -> list[bool]:
    return [r.candidate and r.values is not None and model.probability(r.values) >= threshold for r in rows]


def verdicts(rows: Sequence[Row], predicted: Sequence[bool | None]) -> list[Verdict]:
    """The verdicts on the rows that have a prediction."""
    return [Verdict(p, bool(r.label), r.lang, r.kind, None) for r, p in zip(rows, predicted, strict=True)
            if p is not None]


def cross_validate(rows: Sequence[Row], strength: float, threshold: float, seed: int = SEED) -> list[bool]:
    """Out-of-fold predictions, folds grouped by site and stratified by label (``seed`` shuffles the folds)."""
    from sklearn.model_selection import StratifiedGroupKFold

    predicted = [False] * len(rows)
    folds = StratifiedGroupKFold(n_splits=min(FOLDS, len({r.site for r in rows})), shuffle=True, random_state=seed)
    for train, test in folds.split(rows, [r.label for r in rows], [r.site for r in rows]):
        model = fit([rows[i] for i in train], strength)
        for i, p in zip(test, predict(model, [rows[i] for i in test], threshold), strict=True):
            predicted[i] = p
    return predicted


def leave_language_out(rows: Sequence[Row], strength: float, threshold: float) -> list[bool | None]:
    """Predictions for each language by a model fitted on the other languages only (None for a language
    whose complement holds one label only: it cannot be left out)."""
    predicted: list[bool | None] = [None] * len(rows)
    for lang in sorted({r.lang for r in rows}):
        rest = [r for r in rows if r.lang != lang and r.values is not None]
        if len({r.label for r in rest}) < 2:
            continue
        test = [i for i, r in enumerate(rows) if r.lang == lang]
        model = fit(rest, strength)
        for i, p in zip(test, predict(model, [rows[i] for i in test], threshold), strict=True):
            predicted[i] = p
    return predicted


def run_train(settings: Settings, args: argparse.Namespace) -> int:
    """Fit, report the cross-validated figures, write the model file (unless --dry-run)."""
    records = settings.watchlist_records()
    names = [w.name for w in records]
    if args.watchlist is None and len(records) != 1:
        raise ConfigError(f"several watch lists are configured ({', '.join(names)}): name one with --watchlist")
    chosen = [w for w in records if args.watchlist in (None, w.name)]
    if not chosen:
        raise ConfigError(f"unknown watch list {args.watchlist!r}; configured: {', '.join(names)}")
    configured = chosen[0]
    watchlist = replace(configured, model=None)  # its queries and exclusions; the model is what is being fitted
    if not args.dry_run:
        check_writable(args.out)  # before the matching and the fits, not after them
    rows = read_rows(args.files, watchlist)
    if not rows:
        raise ConfigError("no labelled items in " + ", ".join(map(str, args.files)))
    threshold = watchlist.threshold
    fitted = fit(rows, args.strength)  # a ConfigError now, before any fold, when the items cannot be fitted at all
    if len(sites := {r.site for r in rows}) < 2:
        raise ConfigError(f"the labelled items come from one site ({sites.pop()}): cross-validation grouped by site "
                          "needs two or more (an item's site is the host of its `source` URL, else the feed file of "
                          "a `feedfile#link` source, else the file it is in)")
    predictions: dict[str, Sequence[bool | None]] = {
        "grouped by site": cross_validate(rows, args.strength, threshold),
        "leave one language out": leave_language_out(rows, args.strength, threshold),
        "queries alone (any candidate)": [r.candidate for r in rows],
    }
    reports = {k: tally(verdicts(rows, p)) for k, p in predictions.items()}
    shuffles = [reports["grouped by site"]] + [
        tally(verdicts(rows, cross_validate(rows, args.strength, threshold, SEED + n))) for n in range(1, args.repeats)
    ]
    spread = {figure: _spread([getattr(r, figure) for r in shuffles]) for figure in ("precision", "recall", "f1")}
    by_file = {
        f"{name}, {method}": tally(verdicts(*zip(*[(r, p) for r, p in zip(rows, found, strict=True) if r.file == name],
                                                 strict=True)))
        for name in dict.fromkeys(r.file for r in rows)
        for method, found in predictions.items()
    }
    info = {
        "watchlist": watchlist.name,
        "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
        "files": [p.name for p in args.files],
        "items": len(rows),
        "candidates": sum(r.candidate for r in rows),
        "excluded": sum(r.excluded for r in rows),
        "strength": args.strength,
        "cross_validated": {k: _figures(v) for k, v in (reports | by_file).items() if v.n},  # n 0: no figures
        "cross_validated_shuffles": {"shuffles": args.repeats, **spread},
    }
    model = replace(fitted, info=info)
    if args.json:
        print(json.dumps({k: v.as_dict() for k, v in reports.items()} | {"by_file": {k: v.as_dict() for k, v in
                         by_file.items()}, "shuffles": info["cross_validated_shuffles"], "model": model.to_json()},
                         ensure_ascii=False, indent=2))
    else:
        console = Console()
        console.print(f"[bold]{watchlist.name}[/]: {len(rows)} items from {len(args.files)} file(s), "
                      f"{info['candidates']} candidates, {len({r.site for r in rows})} sites; threshold {threshold}",
                      highlight=False)
        languages = sorted({r.lang for r in rows})
        for title, report in reports.items():
            if report.n:
                print_report(console, title, report, errors=False)
            else:  # only leaving one language out can predict nothing
                why = f"one language only, {languages[0]}" if len(languages) == 1 else "no language could be left out"
                console.print(f"[bold]{title}[/]: - (cannot be computed: {why})", highlight=False)
        console.print(f"grouped by site, over {args.repeats} shuffles of the folds: " + ", ".join(
            f"{figure} {low:.3f}-{high:.3f} (mean {mean:.3f})" for figure, (low, mean, high) in spread.items()),
            highlight=False)
        left = sorted({r.lang for r, p in zip(rows, predictions["leave one language out"], strict=True) if p is None})
        if left and len(languages) > 1:
            console.print(f"not left out (the other languages hold one label only): {', '.join(left)}")
        table = Table("file, predictions", "n", "precision", "recall", "f1", title="by file")
        for title, report in by_file.items():
            figures = (report.precision, report.recall, report.f1)
            table.add_row(title, str(report.n), *(f"{v:.3f}" if report.n else "-" for v in figures))
        console.print(table)
        console.print("weights (standardised features):")
        for name, weight in sorted(zip(model.features, model.weights, strict=True), key=lambda p: -abs(p[1])):
            console.print(f"  {name:<14} {weight:+.3f}", highlight=False)
    if not args.dry_run:
        save(model, args.out)
        hint = "" if configured.model else " (name it as `model:` in the watch list, relative to the watch-list file)"
        print(f"model written to {args.out}{hint}", file=sys.stderr)
    return 0


def _temporary(out: Path) -> Path:
    """The file beside ``out`` that a model is written to before it is renamed over ``out``."""
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


def check_writable(out: Path) -> None:
    """InputError unless a model file can be written at ``out`` (its folder is made if missing)."""
    if out.is_dir():
        raise InputError(f"--out {out} is a folder: name the model file, e.g. {out / 'model.json'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _temporary(out).touch()
        _temporary(out).unlink()
    except OSError as exc:
        raise InputError(f"cannot write the model to {out}: {exc.strerror or exc}") from exc


def save(model: RelevanceModel, out: Path) -> None:
    """Write ``model`` to ``out`` whole or not at all (a file beside it, then renamed); InputError on failure."""
    temporary = _temporary(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save(temporary)
        os.replace(temporary, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise InputError(f"cannot write the model to {out}: {exc.strerror or exc}") from exc


def _spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Lowest, mean and highest of some figures, rounded as the model file keeps them."""
    return round(min(values), 4), round(sum(values) / len(values), 4), round(max(values), 4)


def _figures(report: EvalReport) -> dict[str, float]:
    return {k: v for k, v in report.as_dict().items() if k in ("precision", "recall", "f1")}
