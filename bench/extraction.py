"""Article-page extraction: the monitor's extractor against plain trafilatura, same pages, same scorer, same run.

    python bench/extraction.py                              # the shared corpus: full, half A, half B
    python bench/extraction.py --wceb DIR --newspaper DIR   # ... and out-of-sample sets read from DIR

The scorer is the shared corpus's own `score.py` (4-word shingles, precision and recall averaged over
pages, F1 of the means), imported from ../shared, so every figure is comparable with its README.
Half A and half B split the shared corpus (and the wceb set) by a hash of each page's host, so a site's pages
stay together; the cleanup rules were written on the A halves, the B halves are held out. Out-of-sample sets
(none is copied into this repository; a clone or `git archive` of each is read in place):

* `--wceb DIR`: the 2026 web-content-extraction benchmark (tiptopjaw/web-content-extraction-benchmark,
  Apache-2.0): DIR/release/html/NNNN.html.gz and DIR/benchmark/ground-truth/NNNN.json; its pages typed
  `article` or `blog` are read (`--wceb-all` for every type: forums, products, documentation, listings).
* `--newspaper DIR`: newspaper4k's test pages (AndyTheFactory/newspaper4k, MIT): DIR/tests/data/html/X.html
  with the expected text DIR/tests/data/txt/X.txt.
* `--corpus DIR`: any further set in the shared corpus's layout (ground-truth.json and html/KEY.html.gz).

For example: `git --git-dir=REPO.git archive HEAD release/html benchmark/ground-truth | tar -x -C /tmp/wceb`
and `... archive HEAD tests/data/html tests/data/txt | tar -x -C /tmp/newspaper4k`, then
`python bench/extraction.py --wceb /tmp/wceb --newspaper /tmp/newspaper4k`. `--repo DIR` scores another
checkout's extractor (before/after figures: `git archive OLD | tar -x -C /tmp/old`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import trafilatura

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpora" / "article-extraction"
WCEB_TYPES = frozenset({"article", "blog"})

Extractor = Callable[[str, str], str]


@dataclass(frozen=True)
class Page:
    """One scored page: its key, URL, HTML and true article body."""

    key: str
    url: str
    html: str
    truth: str


def load_scorer(corpus: Path) -> ModuleType:
    """The shared corpus's score.py as a module (its shingle counts, precision and recall)."""
    spec = importlib.util.spec_from_file_location("article_extraction_score", corpus / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no score.py in {corpus}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def half(url: str) -> str:
    """'A' or 'B': the half of a set a page belongs to, by a hash of its host."""
    return "AB"[hashlib.sha256(urlsplit(url).netloc.lower().encode()).digest()[0] % 2]


def scrapinghub_pages(corpus: Path) -> Iterator[Page]:
    """Pages in the shared corpus's layout: ground-truth.json and html/KEY.html.gz."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in sorted(truth.items()):
        html = gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
        yield Page(key, item.get("url", ""), html, item.get("articleBody", ""))


def wceb_pages(root: Path, every_type: bool) -> Iterator[Page]:
    """The web-content-extraction benchmark's pages with their ground truth (articles and blogs by default)."""
    for truth_file in sorted((root / "benchmark" / "ground-truth").glob("*.json")):
        item = json.loads(truth_file.read_text(encoding="utf-8"))
        kind = item.get("_internal", {}).get("page_type", {}).get("primary")
        html_file = root / "release" / "html" / f"{truth_file.stem}.html.gz"
        if html_file.exists() and (every_type or kind in WCEB_TYPES):
            html = gzip.decompress(html_file.read_bytes()).decode("utf-8", "replace")
            yield Page(truth_file.stem, item.get("url", ""), html, item["ground_truth"]["main_content"])


def newspaper_pages(root: Path) -> Iterator[Page]:
    """newspaper4k's test pages that have an expected text."""
    data = root / "tests" / "data"
    for text_file in sorted((data / "txt").glob("*.txt")):
        html_file = data / "html" / f"{text_file.stem}.html"
        if html_file.exists():
            html = html_file.read_bytes().decode("utf-8", "replace")
            yield Page(text_file.stem, "", html, text_file.read_text(encoding="utf-8"))


def plain_trafilatura(html: str, url: str) -> str:
    """trafilatura's `extract()` with its defaults, the baseline."""
    return trafilatura.extract(html, url=url or None) or ""


@dataclass(frozen=True)
class Score:
    """Mean precision and recall over pages, and F1 of the two means."""

    precision: float
    recall: float
    f1: float


def per_page(scorer: ModuleType, pages: list[Page], extract: Extractor) -> tuple[dict[str, tuple[float, float]], float]:
    """(precision, recall) of each page (an extraction that raises counts as empty), and ms per page."""
    found, elapsed = {}, 0.0
    for page in pages:
        start = time.perf_counter()
        try:
            pred = extract(page.html, page.url)
        except Exception as exc:  # a crash is an empty answer, as score.py counts it
            print(f"{page.key}: {type(exc).__name__}: {exc}", file=sys.stderr)
            pred = ""
        elapsed += time.perf_counter() - start
        counts = scorer.page_counts(page.truth, pred)
        found[page.key] = (scorer.precision(*counts), scorer.recall(*counts))
    return found, 1000 * elapsed / max(1, len(pages))


def mean_score(rows: list[tuple[float, float]]) -> Score:
    """The corpus scorer's figures from per-page (precision, recall)."""
    p, r = statistics.mean(row[0] for row in rows), statistics.mean(row[1] for row in rows)
    return Score(p, r, f1(p, r))


def f1(p: float, r: float) -> float:
    """Harmonic mean of precision and recall."""
    return 2 * p * r / (p + r) if p + r else 0.0


def monitor_extractor(repo: Path) -> Extractor:
    """`monitor.extract.score_entry` of the checkout at `repo` (this one by default)."""
    sys.path.insert(0, str(repo))
    module = importlib.import_module("monitor.extract")
    print(f"monitor: {module.__file__}")
    entry: Extractor = module.score_entry
    return entry


def report(
    scorer: ModuleType, monitor: Extractor, name: str, pages: list[Page], subsets: dict[str, set[str]], worst: int
) -> None:
    """Print the monitor's and plain trafilatura's figures on a set and its subsets, and the ratio of F1s."""
    if not pages:
        print(f"{name}: no pages")
        return
    runs = {label: per_page(scorer, pages, extract)
            for label, extract in (("monitor", monitor), ("trafilatura", plain_trafilatura))}
    for subset, keys in {name: {p.key for p in pages}, **subsets}.items():
        scores = {label: mean_score([rows[k] for k in sorted(keys)]) for label, (rows, _) in runs.items()}
        for label, result in scores.items():
            ms = f" ms_per_page={runs[label][1]:.1f}" if subset == name else ""
            print(f"{subset:<16} {label:<12} pages={len(keys):<4} precision={result.precision:.3f} "
                  f"recall={result.recall:.3f} f1={result.f1:.4f}{ms}")
        mine, theirs = ({k: f1(*runs[label][0][k]) for k in keys} for label in runs)
        better = sum(mine[k] > theirs[k] + 0.01 for k in keys)
        worse = sum(mine[k] < theirs[k] - 0.01 for k in keys)
        print(f"{subset:<16} monitor/trafilatura F1 ratio={scores['monitor'].f1 / scores['trafilatura'].f1:.4f} "
              f"(pages better by >0.01: {better}, worse: {worse})")
        for key in sorted(keys, key=lambda k: mine[k] - theirs[k])[:worst]:
            print(f"{'':<16} worst vs trafilatura: {key} {mine[key]:.3f} vs {theirs[key]:.3f}")


def main() -> int:
    """Score the chosen sets and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout whose extractor is scored")
    ap.add_argument("--shared", type=Path, default=SHARED_CORPUS, help="the shared corpus (also gives score.py)")
    ap.add_argument("--wceb", type=Path, help="web-content-extraction-benchmark checkout")
    ap.add_argument("--wceb-all", action="store_true", help="every page type of --wceb, not only articles")
    ap.add_argument("--newspaper", type=Path, help="newspaper4k checkout")
    ap.add_argument("--corpus", type=Path, action="append", default=[], help="a set in the shared corpus's layout")
    ap.add_argument("--worst", type=int, default=0, help="list this many pages most below trafilatura per set")
    ap.add_argument("--only", choices=("shared", "oos"), help="score only the shared corpus or only the others")
    args = ap.parse_args()
    scorer = load_scorer(args.shared)
    monitor = monitor_extractor(args.repo)
    sets: list[tuple[str, list[Page], bool]] = []  # name, pages, whether to report its two halves
    if args.only != "oos":
        sets.append(("shared", list(scrapinghub_pages(args.shared)), True))
    if args.only != "shared":
        if args.wceb:
            name = "wceb" + ("" if args.wceb_all else " articles")
            sets.append((name, list(wceb_pages(args.wceb, args.wceb_all)), True))
        if args.newspaper:
            sets.append(("newspaper4k", list(newspaper_pages(args.newspaper)), False))
        sets += [(corpus.name, list(scrapinghub_pages(corpus)), False) for corpus in args.corpus]
    for name, pages, halved in sets:
        halves = {f"{name.split()[0]} half {h}": {p.key for p in pages if half(p.url) == h} for h in "AB"}
        report(scorer, monitor, name, pages, halves if halved else {}, args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
