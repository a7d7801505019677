"""Benchmark 2: the keyword filter — 1,000 watch-list queries over 10,000 articles, against regexes.

Queries and articles are generated deterministically (seeded) from the words and sentences of
`shared/corpora/ceasefire-dev.jsonl` (real multilingual news text). Queries mix single terms, AND,
OR, NOT, "phrases", prefix wildcards and NEAR/n. Each query is its own watch list, so both engines
compute every (article, query) pair that matches.

The baseline compiles one regex per term (word-bounded, case-insensitive; the alternation lists
every word form of the corpus that the monitor's term accepts: case, diacritics, inflections) and
evaluates each query's boolean structure with `re.search`. It runs on a sample of the articles and
is scaled linearly. Both engines must agree on the plain term/AND/OR/NOT queries.

    python bench/matcher.py [--queries 1000] [--articles 10000] [--sample 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from os.path import commonprefix
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CORPUS, Measure, machine, measured, table, verdict
from monitor.query import Matcher
from monitor.query.text import fold, script_of, stem, stem_lang
from monitor.records import WatchList

TARGET = 10.0
WORD = re.compile(r"[^\W\d_]+")
SENTENCE = re.compile("(?<=[.!?\u0589\u3002])\\s+")  # Armenian and CJK full stops too
PLAIN = ("term", "or", "and", "not", "mixed")  # the kinds both engines must agree on

# A query tree: ("term", w) | ("prefix", p) | ("phrase", w1, w2) | ("near", w1, w2, n)
#               | ("and"|"or", child, ...) | ("not", child)
Node = tuple[object, ...]


@dataclass(frozen=True)
class Query:
    kind: str
    tree: Node
    text: str


@dataclass(frozen=True)
class ArticleText:
    title: str
    body: str


# -- corpus -----------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Titles and sentences per language, word document frequencies, co-occurring word pairs."""

    titles: dict[str, list[str]]
    sentences: dict[str, list[str]]
    weights: dict[str, int]
    df: Counter[str]
    texts: list[list[str]]
    forms: dict[str, set[str]]  # folded word -> surface forms (lower case) seen in the corpus


def load_corpus(path: Path) -> Corpus:
    titles: dict[str, list[str]] = {}
    sentences: dict[str, list[str]] = {}
    df: Counter[str] = Counter()
    texts: list[list[str]] = []
    forms: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        lang, text = item["lang"], item["text"]
        titles.setdefault(lang, []).append(item["title"])
        sentences.setdefault(lang, []).extend(s for s in SENTENCE.split(text) if 20 <= len(s) <= 600)
        words = [w.lower() for w in WORD.findall(f"{item['title']} {text}")]
        texts.append(words)
        df.update(set(words))
        for word in words:
            forms.setdefault(fold(word), set()).add(word)
    weights = {lang: len(t) for lang, t in titles.items() if sentences.get(lang)}
    return Corpus(titles, sentences, weights, df, texts, forms)


def make_articles(corpus: Corpus, count: int, rng: random.Random) -> list[ArticleText]:
    """Articles of 1-2 KB: a title and sentences of one language drawn from the corpus."""
    langs = list(corpus.weights)
    weights = [corpus.weights[lang] for lang in langs]
    out = []
    for _ in range(count):
        lang = rng.choices(langs, weights)[0]
        target = rng.randint(1000, 2000)
        body: list[str] = []
        while sum(len(s) + 1 for s in body) < target:
            body.append(rng.choice(corpus.sentences[lang]))
        out.append(ArticleText(rng.choice(corpus.titles[lang]), " ".join(body)))
    return out


# -- queries ----------------------------------------------------------------------------------


class QueryMaker:
    """Random queries over mid-frequency corpus words (not stop words, not one-off words)."""

    def __init__(self, corpus: Corpus, rng: random.Random) -> None:
        self.rng = rng
        self.texts = [t for t in corpus.texts if len(t) > 20]
        common = {w for w, _ in corpus.df.most_common(150)}
        self.words = sorted(w for w, n in corpus.df.items() if n >= 2 and len(w) >= 3 and w not in common)
        self.allowed = set(self.words)

    def word(self) -> str:
        return self.rng.choice(self.words)

    def pair(self, gap: int) -> tuple[str, str]:
        """Two allowed words at most `gap` words apart in one corpus text (so AND/NEAR can match)."""
        for _ in range(100):
            text = self.rng.choice(self.texts)
            i = self.rng.randrange(len(text) - 1)
            j = min(len(text) - 1, i + self.rng.randint(1, gap + 1))
            if text[i] in self.allowed and text[j] in self.allowed and text[i] != text[j]:
                return text[i], text[j]
        return self.word(), self.word()

    def make(self, kind: str) -> Query:
        rng = self.rng
        tree: Node
        if kind == "term":
            tree = ("term", self.word())
        elif kind == "or":
            tree = ("or", *(("term", self.word()) for _ in range(rng.randint(2, 4))))
        elif kind == "and":
            a, b = self.pair(30)
            tree = ("and", ("term", a), ("term", b))
        elif kind == "not":
            tree = ("and", ("term", self.word()), ("not", ("term", self.word())))
        elif kind == "mixed":
            a, b = self.pair(30)
            tree = ("and", ("or", ("term", a), ("term", self.word())), ("term", b), ("not", ("term", self.word())))
        elif kind == "phrase":
            tree = ("phrase", *self.pair(0))
        elif kind == "prefix":
            word = rng.choice([w for w in (self.word() for _ in range(20)) if len(w) >= 6] or ["ceasefire"])
            tree = ("and", ("prefix", word[: rng.randint(4, 5)]), ("term", self.pair(30)[0]))
        else:
            distance = rng.choice((3, 5, 8))
            tree = ("near", *self.pair(distance), distance)
        return Query(kind, tree, render(tree))


KINDS = {"term": 15, "or": 20, "and": 20, "not": 10, "mixed": 10, "phrase": 10, "prefix": 8, "near": 7}


def make_queries(corpus: Corpus, count: int, rng: random.Random) -> list[Query]:
    maker = QueryMaker(corpus, rng)
    kinds = rng.choices(list(KINDS), list(KINDS.values()), k=count)
    return [maker.make(kind) for kind in kinds]


def render(tree: Node) -> str:
    """The query in the monitor's query language."""
    op = tree[0]
    if op == "term":
        return str(tree[1])
    if op == "prefix":
        return f"{tree[1]}*"
    if op == "phrase":
        return f'"{tree[1]} {tree[2]}"'
    if op == "near":
        return f"{tree[1]} NEAR/{tree[3]} {tree[2]}"
    if op == "not":
        return f"NOT {render(children(tree)[0])}"
    parts = [render(p) for p in children(tree)]
    return f" {str(op).upper()} ".join(f"({p})" if " OR " in p and op == "and" else p for p in parts)


def children(tree: Node) -> list[Node]:
    """The sub-queries of an and/or/not node."""
    return [cast(Node, part) for part in tree[1:]]


# -- baseline: one compiled regex per term ----------------------------------------------------


class RegexBaseline:
    """Each term is one compiled, word-bounded, case-insensitive regex; queries are evaluated with re.search."""

    def __init__(self, queries: Sequence[Query], corpus: Corpus) -> None:
        self.forms = corpus.forms
        self.folded = sorted(corpus.forms)
        self.compiled: dict[Node, re.Pattern[str]] = {}
        for query in queries:
            self._compile(query.tree)
        self.queries = [q.tree for q in queries]

    def _compile(self, tree: Node) -> None:
        op = tree[0]
        if op in ("and", "or", "not"):
            for part in children(tree):
                self._compile(part)
            return
        if op == "term":
            pattern = rf"\b{self._alternation(str(tree[1]))}\b"
        elif op == "prefix":
            pattern = rf"\b{re.escape(str(tree[1]))}"
        elif op == "phrase":
            pattern = rf"\b{self._alternation(str(tree[1]))}\W+{self._alternation(str(tree[2]))}\b"
        else:
            a, b = self._alternation(str(tree[1])), self._alternation(str(tree[2]))
            gap = rf"\W+(?:\w+\W+){{0,{tree[3]}}}"
            pattern = rf"\b{a}{gap}{b}\b|\b{b}{gap}{a}\b"
        self.compiled[tree] = re.compile(pattern, re.IGNORECASE)

    def _alternation(self, word: str) -> str:
        """Every corpus word form the monitor's term accepts: same folded word, or an inflection of it."""
        folded = fold(word)
        accepted = [folded, *inflections(folded, self.folded)]
        forms = sorted({f for w in accepted for f in self.forms.get(w, {word})}, key=len, reverse=True)
        return "(?:" + "|".join(re.escape(f) for f in forms) + ")"

    def matches(self, article: ArticleText) -> list[int]:
        text = f"{article.title}\n{article.body}"
        return [i for i, tree in enumerate(self.queries) if self._eval(tree, text)]

    def _eval(self, tree: Node, text: str) -> bool:
        op = tree[0]
        if op == "and":
            return all(self._eval(p, text) for p in children(tree))
        if op == "or":
            return any(self._eval(p, text) for p in children(tree))
        if op == "not":
            return not self._eval(children(tree)[0], text)
        return self.compiled[tree].search(text) is not None


def inflections(word: str, vocabulary: list[str]) -> list[str]:
    """The monitor's inflection rule (monitor.query.evaluator) applied to the sorted corpus vocabulary."""
    if len(word) < 4:
        return []
    lang = stem_lang(None, script_of(word))
    if lang is None:
        return []
    base = stem(lang, word)
    start = commonprefix([base, word])  # noqa: RUF071 (the common start of two words)
    if len(start) < 3:
        return []
    out = []
    for i in range(bisect_left(vocabulary, start), len(vocabulary)):
        other = vocabulary[i]
        if not other.startswith(start):
            break
        if other != word and len(other) >= len(word) and stem(lang, other) == base:
            out.append(other)
    return out


# -- the run ----------------------------------------------------------------------------------


def run_monitor(
    matcher: Matcher, articles: Sequence[ArticleText], index: dict[str, int]
) -> tuple[Measure, list[set[int]]]:
    found: list[set[int]] = []
    with measured() as spent:
        for article in articles:
            found.append({index[m.watchlist] for m in matcher.match(article.title, article.body)})
    return spent, found


def run_baseline(baseline: RegexBaseline, articles: Sequence[ArticleText]) -> tuple[Measure, list[set[int]]]:
    found: list[set[int]] = []
    with measured() as spent:
        for article in articles:
            found.append(set(baseline.matches(article)))
    return spent, found


def agreement(queries: Sequence[Query], mine: list[set[int]], theirs: list[set[int]]) -> tuple[int, int, list[str]]:
    """(pairs agreed, pairs compared, examples of disagreement) over the plain queries."""
    plain = [i for i, q in enumerate(queries) if q.kind in PLAIN]
    agreed = compared = 0
    examples: list[str] = []
    for article, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        for i in plain:
            compared += 1
            if (i in a) == (i in b):
                agreed += 1
            elif len(examples) < 5:
                side = "monitor only" if i in a else "regex only"
                examples.append(f"article {article}, query {queries[i].text!r}: {side}")
    return agreed, compared, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=500, help="articles the regex baseline reads (default 500)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    print(f"matcher benchmark — {machine()}")
    rng = random.Random(args.seed)
    corpus = load_corpus(CORPUS)
    articles = make_articles(corpus, args.articles, rng)
    queries = make_queries(corpus, args.queries, rng)
    kinds = Counter(q.kind for q in queries)
    size = sum(len(a.title) + len(a.body) for a in articles) / len(articles)
    print(
        f"{len(articles):,} articles (mean {size:,.0f} chars), {len(queries):,} queries: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )
    print("examples: " + " | ".join(q.text for q in queries[:6]))

    watchlists = [WatchList(name=f"q{i:05d}", queries=(q.text,), threshold=0.0) for i, q in enumerate(queries)]
    index = {w.name: i for i, w in enumerate(watchlists)}
    with measured() as build:
        matcher = Matcher(watchlists)
    mine, found = run_monitor(matcher, articles, index)

    sample = articles[: max(1, min(args.sample, len(articles)))]
    with measured() as compile_:
        baseline = RegexBaseline(queries, corpus)
    theirs, their_found = run_baseline(baseline, sample)
    agreed, compared, examples = agreement(queries, found[: len(sample)], their_found)

    scale = len(articles) / len(sample)
    pairs = sum(len(f) for f in found)
    print()
    print(
        table(
            ["engine", "articles", "setup s", "match s", "articles/s", "matching pairs"],
            [
                ["monitor Matcher", len(articles), build.wall, mine.wall, len(articles) / mine.wall, pairs],
                [
                    f"regex per term (measured on {len(sample):,}, x{scale:g})",
                    len(articles),
                    compile_.wall,
                    theirs.wall * scale,
                    len(sample) / theirs.wall,
                    round(sum(len(f) for f in their_found) * scale),
                ],
            ],
        )
    )
    speedup = theirs.wall * scale / mine.wall
    print()
    print(
        f"agreement on plain term/AND/OR/NOT queries: {agreed:,} of {compared:,} (article, query) pairs "
        f"({100 * agreed / max(1, compared):.3f}%) over the {len(sample):,} articles both engines read"
    )
    for line in examples:
        print(f"  disagreement: {line}")
    print(
        f"matcher: {speedup:.1f}x the regex baseline's articles/s (target ≥ {TARGET:g}x: {verdict(speedup >= TARGET)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
