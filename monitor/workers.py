"""The pipeline's CPU-bound stage work, on the cores the event loop does not use.

Parsing fetched documents, extracting article pages, and analysing articles (SimHash fingerprint
and watch-list matches) are pure functions of their input. With ``workers: 0`` they run in the
service process (a big document is parsed or extracted in a thread, so it does not stall the loop);
with ``workers: N`` they run in a pool of N processes, each holding its own `Matcher` built from
the same watch lists, while the event loop keeps the network and the store. The pool starts on
first use, so a cycle of 304s never starts it. After a document of `TRIM_BYTES` or more, the memory its
parse freed is given back to the system (glibc keeps it otherwise, in the arena of the thread that parsed).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.config import SourceConfig
from monitor.fingerprint import entry_hash, fingerprint
from monitor.query import Matcher
from monitor.records import Article, FetchResult, Match, WatchList
from monitor.sources import SOURCE_KINDS

if TYPE_CHECKING:
    from monitor.extract import PageInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_AUTO_WORKERS = 4  # the most processes `workers: auto` starts (each holds its own copy of the watch lists)
INLINE_BYTES = 100_000  # in-process, bigger documents are parsed in a thread so they do not stall the loop
MAX_TEXT_CHARS = 200_000  # longer summaries and bodies are cut (matching megabytes stalls a worker)
TRIM_BYTES = 1_000_000  # documents this big are followed by a malloc_trim (about 20 ms)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What an article's text gives before the store is consulted: its fingerprint and its matches."""

    fingerprint: int
    matches: tuple[Match, ...]


def worker_count(setting: int | str, cpus: int | None = None) -> int:
    """Processes for a ``workers`` setting: ``auto`` leaves one core to the event loop (network, store)
    and gives each other core a worker, up to 4; none on a single core."""
    if setting != "auto":
        return int(setting)
    return min((cpus or usable_cpus()) - 1, MAX_AUTO_WORKERS)


def usable_cpus() -> int:
    """The CPUs this process may run on (all of the machine's where the system cannot tell)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Parsed:
    """One item of a fetched document, ready for the store's look-up."""

    article: Article  # its summary and body cut to MAX_TEXT_CHARS
    entry: str  # `entry_hash` of the item as the document shows it
    analysis: Analysis | None  # None: not analysed here (a known entry, or its page is still to fetch)
    cut: bool = False  # the text was cut


def parse_items(
    matcher: Matcher | None, source: SourceConfig, result: FetchResult, known: frozenset[str]
) -> list[Parsed]:
    """The document's items; with a matcher, those whose entry is not `known` are analysed too."""
    out = []
    for item in parse(source, result):
        article, cut = clipped(item)
        entry = entry_hash(item)
        fresh = not source.fetch_article and entry not in known  # with fetch_article, the page is analysed
        out.append(Parsed(article, entry, analysis(matcher, article) if matcher and fresh else None, cut))
    return out


def clipped(article: Article) -> tuple[Article, bool]:
    """The article with its summary and body cut to MAX_TEXT_CHARS each, and whether it was cut."""
    if len(article.summary) <= MAX_TEXT_CHARS and len(article.body) <= MAX_TEXT_CHARS:
        return article, False
    cut = MAX_TEXT_CHARS
    return replace(article, summary=article.summary[:cut], body=article.body[:cut], content_hash=""), True


def parse(source: SourceConfig, result: FetchResult) -> list[Article]:
    """A fetched document's articles, by its source's kind (raises ParseError)."""
    return SOURCE_KINDS[source.kind].parse(result, source=source.name, language=source.language, options=source.options)


def analysis(matcher: Matcher, article: Article) -> Analysis:
    """Fingerprint and watch-list matches of an article's title and text."""
    return Analysis(fingerprint(article.text), tuple(matcher.match(article.title, article.text, article.language)))


class Matchers:
    """The matcher of every watch list, and one per subset that sources name (`watchlists:`), each built on first
    use and kept until the watch lists change (a reload builds a new `Matchers`)."""

    def __init__(self, matcher: Matcher) -> None:
        self.all = matcher
        self._subsets: dict[frozenset[str], Matcher] = {}

    def of(self, names: Sequence[str] | None) -> Matcher:
        """The matcher of these watch lists (None: all of them)."""
        if names is None:
            return self.all
        key = frozenset(names)
        found = self._subsets.get(key)
        if found is None:
            found = self._subsets[key] = Matcher([w for w in self.all.watchlists if w.name in key])
        return found


# In a pool process: the matchers built by `_start` from the service's watch lists.
_worker_matchers: Matchers | None = None


def _start(watchlists: list[WatchList]) -> None:
    global _worker_matchers
    _worker_matchers = Matchers(Matcher(watchlists))


def _in_worker() -> Matchers:
    assert _worker_matchers is not None, "pool process started without watch lists"
    return _worker_matchers


def _analyse_in_worker(articles: Sequence[Article], watchlists: Sequence[str] | None) -> list[Analysis]:
    matcher = _in_worker().of(watchlists)
    return [analysis(matcher, a) for a in articles]


def _parse_in_worker(source: SourceConfig, result: FetchResult, known: frozenset[str]) -> list[Parsed]:
    return parse_items(_in_worker().of(source.watchlists), source, result, known)


def _then_trim(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, then the memory freed by then given back to the system, where malloc can."""
    try:
        return function(*args)
    finally:
        trim = _malloc_trim()
        if trim is not None:
            trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


class Workers:
    """Runs the CPU-bound stages in-process (``processes=0``) or in a process pool."""

    def __init__(self, matcher: Matcher, processes: int = 0) -> None:
        self.matchers = Matchers(matcher)
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def reconfigure(self, matcher: Matcher, processes: int) -> None:
        """A config reload: later work uses these watch lists and this many processes (the pool is replaced)."""
        self.matchers, self.processes = Matchers(matcher), processes
        self._stop_pool()

    async def parse(self, source: SourceConfig, result: FetchResult, known: frozenset[str]) -> list[Parsed]:
        """The document's items; in a pool they come analysed (one round trip per document)."""
        if not self.processes:
            return await self._run(len(result.content), parse_items, None, source, result, known)
        return await self._run(len(result.content), _parse_in_worker, source, result, known)

    async def extract(self, content: bytes, url: str, selector: str | None, charset: str | None) -> PageInfo:
        from monitor.extract import extract_page  # trafilatura: loaded once a source fetches pages

        return await self._run(len(content), extract_page, content, url, selector, charset)

    async def analyse(self, articles: Sequence[Article], watchlists: Sequence[str] | None = None) -> list[Analysis]:
        """Each article's analysis against these watch lists (None: all); in-process, on the event loop's thread."""
        if not self.processes:
            matcher = self.matchers.of(watchlists)
            return [analysis(matcher, a) for a in articles]
        return await self._run(0, _analyse_in_worker, list(articles), watchlists)

    async def _run(self, size: int, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the pool; in-process, right here, or in a thread when `size` bytes are a lot."""
        if size >= TRIM_BYTES:
            function, args = _then_trim, (function, *args)
        if not self.processes:
            return function(*args) if size <= INLINE_BYTES else await asyncio.to_thread(function, *args)
        pool = self._pool or self._start_pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:  # a pool process died (killed, out of memory): start a new pool and retry once
            log.error("a worker process died; starting a new pool")
            if self._pool is pool:
                self._stop_pool()
            return await asyncio.get_running_loop().run_in_executor(self._pool or self._start_pool(), function, *args)

    def _start_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the service process has threads (asyncio's, the scheduler's) that fork would copy badly
        self._pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.matchers.all.watchlists,),
        )
        log.info("started %d worker processes", self.processes)
        return self._pool

    def _stop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=False)
            self._pool = None

    def close(self) -> None:
        """Stop the pool processes (waits for the work they hold)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
