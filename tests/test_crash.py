"""Crash safety: kill `monitor run` at many points of its cycle and check that no owed alert is lost.

A loopback site serves a feed that grows three stories (each with a ceasefire violation in its page)
before every run; a loopback receiver takes the alerts from the webhook notifier. Each run is a real
process (forked from a pre-imported parent, so a run starts in a fraction of a second) killed with
SIGKILL inside a feed fetch, a page fetch, a delivery (before or after the receiver answers), or at a
given time; then SIGTERM at such points, which must exit 0 within 10 s. A last run delivers what is
owed. Every story must arrive; a story may arrive twice only if it was the delivery in flight at a
SIGKILL.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .testdata import REPO, write_config

# (where, n): kill at the n-th feed request / page request / webhook POST (before or after the answer)
# of the run, or ("time", seconds) after the process started.
SIGKILL_POINTS = [
    ("time", 0.05), ("time", 0.3), ("feed", 1), ("page", 1), ("page", 2), ("post-before", 1), ("post-after", 1),
    ("time", 0.6), ("post-before", 2), ("feed", 2), ("page", 1), ("post-after", 2), ("time", 0.9), ("page", 2),
    ("post-before", 1), ("post-after", 1), ("time", 0.4), ("feed", 1), ("post-before", 3), ("post-after", 1),
    ("time", 1.2), ("page", 1),
]
SIGTERM_POINTS = [("feed", 1), ("page", 1), ("post-before", 1), ("post-after", 1)]
NEW_PER_RUN = 1
POINT_TIMEOUT = 4.0  # a point not reached by then is replaced by a kill at that time

ZYGOTE = """
import os, sys
import monitor.notify.webhook  # registers the webhook notifier kind
from monitor.cli import main
for line in sys.stdin:
    config, out = line.split()
    pid = os.fork()
    if pid == 0:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os._exit(main(["run", "--config", config]))
    print("pid", pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print("exit", os.waitstatus_to_exitcode(status), flush=True)
"""


@dataclass
class Harness:
    """The site, the receiver and the kill switch shared by the servers' threads.

    `received` holds, in order, the story URL of every POST and markers: "RUN" when a run starts,
    "KILL"/"TERM" when it is signalled. A request handled after its run was signalled (a slow server
    thread) counts for no kill point; between runs the servers settle, so a killed process's last requests
    are counted before the next "RUN", not in the next run.
    """

    stories: int = 0
    run: int = 0
    pid: int = 0
    point: tuple[str, float] = ("time", 0.0)
    sig: int = signal.SIGKILL
    seen: Counter[str] = field(default_factory=Counter)
    received: list[str] = field(default_factory=list)
    fired: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0  # connections the servers are handling now

    def arm(self, point: tuple[str, float], sig: int) -> None:
        """Get ready for the next run: signal `sig` at `point` (its process id follows with `started`)."""
        with self.lock:
            self.run += 1
            self.pid, self.point, self.sig = 0, point, sig
            self.seen.clear()
            self.fired.clear()
            self.received.append("RUN")

    def settle(self, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Wait until no connection has been open for `quiet` s: every request a dead process sent (still in
        the servers' hands on a busy machine) is then counted before the next run starts, not in it."""
        deadline, since = time.monotonic() + limit, time.monotonic()
        while time.monotonic() < deadline:
            if self.connections:
                since = time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.02)

    def started(self, pid: int) -> None:
        with self.lock:
            self.pid = pid
            if self.point[0] != "time" and self.seen[self.point[0]] >= self.point[1]:
                self.fire()  # the point was passed before the process id was known

    def at(self, where: str, run: int) -> None:
        """Called by the servers at each point of the cycle; fires the signal at the armed one."""
        with self.lock:
            if run != self.run or self.fired.is_set():
                return
            self.seen[where] += 1
            if self.pid and self.point == (where, self.seen[where]):
                self.fire()

    def fire(self) -> None:
        if self.pid and not self.fired.is_set():
            self.received.append("KILL" if self.sig == signal.SIGKILL else "TERM")
            os.kill(self.pid, self.sig)
            self.fired.set()


def feed(base: str, stories: int) -> bytes:
    items = "".join(
        f"<item><title>Border report {n}</title><link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>"
        f"<description>Report {n} from the border.</description></item>"
        for n in range(stories)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def page(n: int) -> bytes:
    return (
        f"<html><head><title>Border report {n}</title></head><body><article><h1>Border report {n}</h1>"
        f"<p>Armenia and Azerbaijan accused each other of violating the ceasefire near village {n} on Tuesday.</p>"
        "</article></body></html>"  # under 40 words: never taken for a near-duplicate of the other stories
    ).encode()


def serve(harness: Harness) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def handle(self) -> None:
            with harness.lock:
                harness.connections += 1
            try:
                super().handle()
            finally:
                with harness.lock:
                    harness.connections -= 1

        def do_GET(self) -> None:
            run = harness.run
            if self.path == "/feed":
                harness.at("feed", run)
                self._send(feed(f"http://{self.headers['Host']}", harness.stories))
            elif self.path.startswith("/story/"):
                harness.at("page", run)
                self._send(page(int(self.path.rsplit("/", 1)[1])), "text/html; charset=utf-8")
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            run = harness.run
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with harness.lock:
                harness.received.append(body["url"])
            harness.at("post-before", run)
            time.sleep(0.05)  # a delivery takes a while: kills land inside it
            self._send(b"{}", "application/json")
            harness.at("post-after", run)

        def _send(self, body: bytes, ctype: str = "application/rss+xml") -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the process was killed mid-answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def crash_config(workdir: Path, port: int) -> Path:
    """One source with article pages and one webhook, both on the test server at `port`, polled every 0.3 s."""
    base = f"http://127.0.0.1:{port}"
    return write_config(
        workdir,
        [{"name": "site", "url": f"{base}/feed", "fetch_article": True, "allow_private": True}],
        [{"name": "hook", "kind": "webhook", "url": f"{base}/alerts", "timeout": 5}],
        schedule={"interval": 0.3, "jitter": 0}, health={"enabled": False}, reload={"watch": False},
    )


class Zygote:
    """A Python process with the monitor imported that forks one `monitor run` per request."""

    def __init__(self, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, text=True, bufsize=1)

    def start(self, config: Path) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{config} {self.log}\n")
        self.proc.stdin.flush()
        word, pid = self._line(30).split()
        assert word == "pid"
        return int(pid)

    def wait(self, timeout: float) -> int:
        word, code = self._line(timeout).split()
        assert word == "exit"
        return int(code)

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no answer from the zygote within {timeout} s"
        return self.proc.stdout.readline()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Harness, Zygote, Path]]:
    harness = Harness()
    server = serve(harness)
    zygote = Zygote(tmp_path / "service.log")
    try:
        yield harness, zygote, crash_config(tmp_path, server.server_address[1])
    finally:
        zygote.close()
        server.shutdown()
        server.server_close()


def run_to(harness: Harness, zygote: Zygote, config: Path, point: tuple[str, float], sig: int) -> int:
    """One run of the service, signalled at `point`; returns its exit code."""
    harness.stories += NEW_PER_RUN
    harness.arm(point, sig)
    harness.started(zygote.start(config))
    where, value = point
    if not harness.fired.wait(value if where == "time" else POINT_TIMEOUT):
        with harness.lock:
            harness.fire()
    code = zygote.wait(10 if sig == signal.SIGTERM else 5)
    harness.settle()
    return code


def test_kills_at_every_point_of_a_cycle_lose_nothing(rig: tuple[Harness, Zygote, Path]) -> None:
    harness, zygote, config = rig
    for point in SIGKILL_POINTS:
        assert run_to(harness, zygote, config, point, signal.SIGKILL) == -signal.SIGKILL
    for point in SIGTERM_POINTS:
        began = time.monotonic()
        assert run_to(harness, zygote, config, point, signal.SIGTERM) == 0, zygote.log.read_text()[-3000:]
        assert time.monotonic() - began < 10 + POINT_TIMEOUT

    # a last run delivers whatever is still owed
    harness.arm(("never", 1), signal.SIGTERM)
    harness.started(zygote.start(config))
    expected = {f"/story/{n}" for n in range(harness.stories)}
    for _ in range(300):
        with harness.lock:
            got = {url[url.index("/story/"):] for url in harness.received if "/story/" in url}
        if got >= expected and harness.seen["feed"] >= 2:
            break
        time.sleep(0.1)
    time.sleep(0.3)  # nothing more should come
    with harness.lock:
        harness.fire()
    assert zygote.wait(10) == 0

    posts = [url for url in harness.received if "/story/" in url]
    assert {url[url.index("/story/"):] for url in posts} == expected  # nothing lost, nothing invented
    assert unexplained_duplicates(harness.received) == []
    assert harness.received.count("KILL") == len(SIGKILL_POINTS)
    assert harness.received.count("TERM") == len(SIGTERM_POINTS) + 1


def unexplained_duplicates(events: list[str]) -> list[str]:
    """Repeated deliveries that no SIGKILL explains. Each SIGKILL explains one repeat of the delivery in
    flight when it struck: the last one received before it, or one the dying process had already sent."""
    explains: list[set[str]] = []  # per SIGKILL, the deliveries that may have been in flight
    last, after_kill, delivered, unexplained = "", False, set(), []
    for event in events:
        if event in ("RUN", "TERM"):
            after_kill = False
        elif event == "KILL":
            explains.append({last})
            after_kill = True
        else:
            if after_kill:
                explains[-1].add(event)
            if event in delivered:
                token = next((s for s in explains if event in s), None)
                if token is None:
                    unexplained.append(event)
                else:
                    explains.remove(token)
            delivered.add(event)
            last = event
    return unexplained
