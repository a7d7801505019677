"""A real `monitor run` process for tests: its JSON log and its output collected as they come, /healthz and
/metrics at hand, stopped with SIGTERM (killed if it hangs) when the `with` block ends; or (`run_logged`) one
writing them to files, which the test stops itself."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from . import testdata
from .servers import LoopbackServer
from .testdata import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    workdir: Path, sources: list[dict[str, object]], notifiers: list[dict[str, object]] | None = None,
    **sections: object,
) -> tuple[Path, int]:
    """A config (`testdata.write_config`) with no reload watcher and /healthz on a free port (returned)."""
    port = free_port()
    sections = {"health": {"port": port}, "reload": {"watch": False}, **sections}
    return testdata.write_config(workdir, sources, notifiers, **sections), port


def write_feed_config(
    workdir: Path, site: LoopbackServer, notifier: dict[str, Any], interval: float
) -> tuple[Path, int]:
    """write_config for one source, `site`'s /feed polled every `interval` s without jitter, and one notifier."""
    return write_config(workdir, [{"name": "site", "url": site.url("/feed")}], notifiers=[notifier],
                        schedule={"interval": interval, "jitter": 0})


def run_command(config: Path) -> list[str]:
    """`python -m monitor --log-format json run --config CONFIG`."""
    return [sys.executable, "-m", "monitor", "--log-format", "json", "run", "--config", str(config)]


@contextmanager
def run_logged(config: Path, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`monitor run` in `workdir`, its output and JSON log in workdir/stdout.txt and stderr.txt, for the block
    (which stops it, e.g. with SIGTERM); killed after the block if it still runs."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(run_command(config), stdout=out, stderr=err, env=env, cwd=workdir)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class MonitorProcess:
    """`python -m monitor --log-format json run --config CONFIG`, with stdout and stderr read through pipes
    (so nothing it writes depends on a file, and limits set on the process touch only its database)."""

    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.base = f"http://127.0.0.1:{port}"
        self.events: list[dict[str, Any]] = []
        self.stdout: list[str] = []
        self.exit_code: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> MonitorProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._proc = subprocess.Popen(run_command(self.config), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env, cwd=self.config.parent)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [
            threading.Thread(target=_collect, args=(self._proc.stdout, self.stdout.append), daemon=True),
            threading.Thread(target=_collect, args=(self._proc.stderr, self._event), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if not self.until(lambda: bool(self.messages("monitor running")), 20):
            self.__exit__(None, None, None)
            raise AssertionError(f"the service did not start: {self.events[-5:]}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self.exit_code = self._proc.wait()
        for reader in self._readers:
            reader.join(timeout=5)

    def _event(self, line: str) -> None:
        self.events.append(json.loads(line) if line.startswith("{") else {"msg": line, "level": "RAW"})

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def health(self) -> httpx.Response:
        return httpx.get(self.base + "/healthz", timeout=5)

    def metrics(self) -> str:
        return httpx.get(self.base + "/metrics", timeout=5).text

    def messages(self, text: str) -> list[dict[str, Any]]:
        """The log events whose message contains `text`."""
        return [e for e in list(self.events) if text in str(e.get("msg", ""))]

    def until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait for `condition` at most `timeout` s while the process lives; whether it came true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if condition():
                return True
            time.sleep(0.1)
        return condition()


def _collect(stream: IO[str], out: Callable[[str], None]) -> None:
    for line in stream:
        out(line.rstrip("\n"))
