"""Documents that cost memory far beyond their size, and the peak RSS of a real `monitor once` reading them.

Each case is a set of loopback sources: a 4.5 MB listing page of nested `<div>`s, a feed of 600,000 empty
`<item/>`s, every source of `tests/hostile.py`, or all of them together. `peak_rss` runs `monitor once` against
them in a child process, which writes its peak RSS (VmHWM of /proc/self/status) as it exits: the child's
`ru_maxrss` would not do, it keeps the parent's peak, inherited through fork and exec.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from .hostile import HOSTILE, XXE_SECRET, HostileServer
from .servers import LoopbackServer
from .testdata import REPO

LISTING_LINKS = 20  # real article links at the top of the nested-divs page
# `python -m monitor ARGS` that writes its VmHWM line to the file named by its first argument as it exits
MEASURED = (
    "import atexit, pathlib, re, runpy, sys\n"
    "out, status = pathlib.Path(sys.argv.pop(1)), pathlib.Path('/proc/self/status')\n"
    "atexit.register(lambda: out.write_text(re.search('VmHWM:.*', status.read_text())[0]))\n"
    "runpy.run_module('monitor', run_name='__main__', alter_sys=True)\n"
)


def nested_divs(size: int = 4_500_000) -> bytes:
    """A listing page: `LISTING_LINKS` article links, then `<div>`s nested until the page is `size` bytes."""
    links = "".join(f'<h2><a href="/news/{n}">Ceasefire talks, day {n}</a></h2>' for n in range(LISTING_LINKS))
    head = f"<!doctype html><html lang='en'><head><title>News</title></head><body>{links}"
    return (head + "<div>" * ((size - len(head)) // 5)).encode()


def empty_items(count: int = 600_000) -> bytes:
    """An RSS 2.0 feed of `count` empty items."""
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{"<item/>" * count}'
            "</channel></rss>").encode()


@dataclass(frozen=True)
class Run:
    """What one `monitor once` left behind."""

    peak_mb: float
    exit_code: int
    stderr: str
    db: Path


CASES = ("nested-divs", "empty-items", "hostile")  # and "all": the three together


@contextmanager
def case_sources(case: str, workdir: Path) -> Iterator[list[dict[str, object]]]:
    """The sources of `case` (one of `CASES`, or `all`), served while the block runs."""
    parts = CASES if case == "all" else (case,)
    if not set(parts) <= set(CASES):
        raise ValueError(f"unknown case {case!r}")
    sources: list[dict[str, object]] = []
    with ExitStack() as stack:
        if "hostile" in parts:
            secret = workdir / "secret.txt"
            secret.write_text(XXE_SECRET)
            hostile = stack.enter_context(HostileServer(str(secret)))
            sources += [{"name": b.name, "url": hostile.url(b.name)} for b in HOSTILE]
        server = stack.enter_context(LoopbackServer())
        if "nested-divs" in parts:
            url = server.route("/news", nested_divs(), content_type="text/html")
            sources.append({"name": "nested-divs", "kind": "html", "url": url, "link_selector": "h2 a"})
        if "empty-items" in parts:
            url = server.route("/feed.xml", empty_items(), content_type="application/rss+xml")
            sources.append({"name": "empty-items", "url": url})
        yield sources


def peak_rss(case: str, workdir: Path, repo: Path = REPO) -> Run:
    """Run `monitor once` (of the checkout `repo`) over the sources of `case` in `workdir` (which it creates)
    and measure it."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "watchlists").mkdir(exist_ok=True)
    (workdir / "watchlists" / "ceasefire.yaml").write_text(
        (REPO / "config" / "watchlists" / "ceasefire.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with case_sources(case, workdir) as sources:
        config = {
            "storage": {"path": "db.sqlite3"},
            "fetch": {"per_host": 40, "connect_timeout": 3, "read_timeout": 2, "total_timeout": 4,
                      "max_bytes": 8_000_000},
            "health": {"enabled": False},
            "reload": {"watch": False},
            "notifiers": [{"name": "console", "kind": "console"}],
            "sources": sources,
        }
        path = workdir / "monitor.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        hwm = workdir / "vmhwm.txt"
        cmd = [sys.executable, "-c", MEASURED, str(hwm), "once", "--quiet", "--config", str(path)]
        env = {**os.environ, "PYTHONPATH": str(repo)}
        with open(workdir / "stderr.txt", "wb") as err:
            code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=workdir).returncode
    stderr = (workdir / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    return Run(int(hwm.read_text().split()[1]) / 1024, code, stderr, workdir / "db.sqlite3")
