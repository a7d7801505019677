"""Shared helpers for the benchmarks: the feed farm, timing, result tables, temporary configs."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FEEDFARM = SHARED / "tools" / "feedfarm.py"
CORPUS = SHARED / "corpora" / "ceasefire-dev.jsonl"


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads) and of its children that have ended
    (the monitor's worker processes end when the measured cycle closes its pool)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Measure:
    """Wall and CPU seconds spent inside a `measured()` block."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def measured() -> Iterator[Measure]:
    """Measure the wall and CPU time of the block (CPU: see `cpu_seconds`)."""
    result = Measure()
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - wall
        result.cpu = cpu_seconds() - cpu


def machine() -> str:
    """One line naming the machine the figures come from."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}, {os.cpu_count()} cores ({model}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, load average {load}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, columns aligned (numbers right, text left)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _farm(*args: str) -> str:
    done = subprocess.run([sys.executable, str(FEEDFARM), *args], check=True, capture_output=True, text=True)
    return done.stdout


class Farm:
    """N generated feeds served by nginx on 50 loopback addresses; stopped and removed on exit, also on error."""

    def __init__(self, count: int, rate: str = "0", port: int | None = None, *, validators: bool = True) -> None:
        self.count = count
        self.rate = rate
        self.port = port or free_port()
        self.validators = validators  # False: no ETag, If-Modified-Since ignored: every poll reads the feed whole
        self.root = Path()

    def __enter__(self) -> Farm:
        if not shutil.which("nginx"):
            raise SystemExit("nginx not found: run bench/run_all.sh (installs it) or `apt-get install -y nginx`")
        if not FEEDFARM.exists():
            raise SystemExit(f"{FEEDFARM} not found: the repository must be cloned next to shared/")
        self.root = Path(tempfile.mkdtemp(prefix="feedfarm-"))
        self.root.chmod(0o755)  # nginx workers run as another user
        try:
            _farm("generate", str(self.root), str(self.count))
            _farm("serve", str(self.root), str(self.port), self.rate)
            if not self.validators:
                self._drop_validators()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        return self

    def _drop_validators(self) -> None:
        """Reload nginx without ETags and with If-Modified-Since ignored; return once its workers answer so."""
        conf = self.root / ".nginx.conf"
        conf.write_text(conf.read_text().replace("etag on;", "etag off; if_modified_since off;"))
        subprocess.run(["nginx", "-c", str(conf), "-p", str(self.root), "-s", "reload"], check=True,
                       capture_output=True)
        url, deadline = self.urls()[0], time.monotonic() + 10
        while time.monotonic() < deadline:
            request = urllib.request.Request(url, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if "ETag" not in answer.headers:
                        return
            except urllib.error.HTTPError as exc:  # 304 Not Modified: a worker of the old configuration answered
                if exc.code != 304:
                    raise
            time.sleep(0.1)
        raise SystemExit("the feed farm still sends validators after its reload")

    def __exit__(self, *exc: object) -> None:
        try:
            _farm("stop", str(self.root))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def urls(self) -> list[str]:
        return _farm("urls", str(self.root), str(self.port)).split()

    def touch(self, fraction: float) -> None:
        """Rewrite that fraction of the feeds with other items (`feedfarm.py touch`)."""
        _farm("touch", str(self.root), str(fraction))


def write_config(
    root: Path,
    urls: Sequence[str],
    *,
    schedule: Mapping[str, Any] | None = None,
    notifiers: Sequence[Mapping[str, Any]] = ({"name": "null", "kind": "null"},),
    workers: int | str = 0,
) -> Path:
    """A monitor config in `root` with one feed source per URL and the repo's watch lists."""
    lists = root / "watchlists"
    lists.mkdir(parents=True, exist_ok=True)
    shipped = sorted((REPO / "config" / "watchlists").glob("*.yaml"))
    for file in shipped:
        shutil.copy(file, lists / file.name)
    if not shipped:
        (lists / "ceasefire.yaml").write_text(
            yaml.safe_dump({"name": "ceasefire", "queries": ["ceasefire OR truce", "ceasefire NEAR/5 violat*"]})
        )
    config = {
        "storage": {"path": str(root / "monitor.sqlite3")},
        "schedule": dict(schedule or {}),
        "notifiers": [dict(n) for n in notifiers],
        "workers": workers,
        "sources": [{"name": f"farm-{i:05d}", "url": url} for i, url in enumerate(urls)],
    }
    path = root / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def register_null_notifier() -> None:
    """A `null` notifier kind that accepts every alert silently (the outbox is still drained)."""
    from monitor.notify import NOTIFIER_KINDS, register
    from monitor.records import Alert
    from monitor.store import Store

    if "null" in NOTIFIER_KINDS:
        return

    class NullNotifier:
        def __init__(self, name: str, options: Mapping[str, Any], store: Store) -> None:
            self.name = name

        async def deliver(self, alert: Alert) -> None:
            return None

        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            return None

    register("null")(NullNotifier)
