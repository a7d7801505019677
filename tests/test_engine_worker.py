"""The engine on PostgreSQL with real processes: `monitor run` and several `monitor worker`s share a loopback farm of
feeds that keep gaining items, a webhook receiver counts what is delivered, and workers are SIGKILLed at random
points (and replaced): every alert is delivered, at most one duplicate per kill, every alerting item alerts, and no
source is fetched twice within its interval."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psycopg
import pytest

from tests.process import free_port
from tests.receivers import WebhookReceiver
from tests.servers import LoopbackServer
from tests.testdata import REPO, write_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FEEDS = 200
INTERVAL = 5.0  # seconds, fixed
JITTER = 1.0
ALERTING = [
    "Ceasefire violated overnight as shelling resumed along the contact line",
    "Both sides accuse each other of violating the ceasefire near the village",
]
QUIET = ["Local authorities opened a new school in the region", "The central bank kept its rate unchanged"]
SLACK = 1.0  # seconds between a poll's start (its "now") and its request reaching the farm, at most, on a busy box


class Engine:
    """`python -m monitor --log-format json COMMAND --config CONFIG`, its JSON log written to a file beside the config
    (a pipe the test reads too slowly would block the process's logging, and so the process)."""

    def __init__(self, config: Path, command: str, ready: str, *options: str) -> None:
        self.config, self.command, self.ready, self.options = config, command, ready, options
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Engine:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "monitor", "--log-format", "json", self.command, *self.options, "--config",
               str(self.config)]
        self.log = self.config.parent / f"{self.command}-{time.monotonic_ns()}.log"  # kept for a post-mortem
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=out, env=env, cwd=self.config.parent)
        if not _until(lambda: any(self.ready in str(e.get("msg")) for e in self.events()), 30):
            self.kill()
            raise AssertionError(f"monitor {self.command} did not start: {self.events()[-5:]}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.kill()
        self._proc.wait()

    def events(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [json.loads(line) if line.startswith("{") and line.endswith("}") else {"msg": line, "level": "RAW"}
                for line in lines]

    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("level") in ("ERROR", "CRITICAL")]


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


class Farm:
    """FEEDS RSS feeds on a loopback server; `add()` puts a new item at the top of a random feed."""

    def __init__(self, server: LoopbackServer, rng: random.Random) -> None:
        self.server, self.rng = server, rng
        self.items: dict[int, list[tuple[str, str]]] = {n: [] for n in range(FEEDS)}
        self.alerting: set[str] = set()  # the links of the items that must alert
        self.added = 0
        for n in range(FEEDS):
            self._publish(n)

    def path(self, n: int) -> str:
        return f"/feed-{n:04d}.xml"

    def add(self, *, alerting: bool) -> None:
        n = self.rng.randrange(FEEDS)
        self.added += 1
        link = f"http://news{n}.example/a/{self.added}"
        text = self.rng.choice(ALERTING if alerting else QUIET)
        self.items[n].insert(0, (link, f"{text} (report {self.added})"))
        if alerting:
            self.alerting.add(link)
        self._publish(n)

    def _publish(self, n: int) -> None:
        items = "".join(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                        f"<description>{title}.</description></item>" for link, title in self.items[n][:20])
        body = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet {n}</title>'
                f"<link>http://news{n}.example/</link><description>feed {n}</description>{items}</channel></rss>")
        self.server.route(self.path(n), body.encode(), content_type="application/rss+xml")


@pytest.fixture
def farm() -> Iterator[Farm]:
    with LoopbackServer() as server:
        yield Farm(server, random.Random(12))


def _config(tmp_path: Path, farm: Farm, receiver: WebhookReceiver, url: str) -> Path:
    sources = [{"name": f"feed{n:04d}", "url": farm.server.url(farm.path(n)), "allow_private": True}
               for n in range(FEEDS)]
    hook = {"name": "hook", "kind": "webhook", "url": receiver.url, "timeout": 5}
    schedule = {"interval": INTERVAL, "jitter": JITTER}
    return write_config(tmp_path, sources, [hook], storage={"url": url}, schedule=schedule,
                        engine={"concurrency": 30, "heartbeat": 0.5, "stalled_after": 2.0},
                        health={"port": free_port()}, reload={"watch": False},
                        fetch={"per_host": 64, "max_connections": 256})


def _delivered_everything(url: str, farm: Farm, receiver: WebhookReceiver) -> Callable[[], bool]:
    """Whether every alerting item has alerted and every alert has been delivered."""
    def done() -> bool:
        with psycopg.connect(url) as conn:
            owed = conn.execute("SELECT COUNT(*) FROM outbox WHERE status <> 'delivered'").fetchone()
            alerted = {r[0] for r in conn.execute("SELECT url FROM alerts")}
        return owed == (0,) and farm.alerting <= alerted <= set(receiver.urls)
    return done


def _stuck(url: str, farm: Farm) -> str:
    """What is left undone: alerting items without an alert, with their source's state and poll jobs."""
    with psycopg.connect(url) as conn:
        alerted = {r[0] for r in conn.execute("SELECT url FROM alerts")}
        owed = conn.execute("SELECT COUNT(*) FROM outbox WHERE status <> 'delivered'").fetchone()
        jobs = conn.execute("SELECT task_name, status, COUNT(*) FROM procrastinate_jobs GROUP BY 1, 2").fetchall()
        lines = [f"{owed} owed; jobs {jobs}"]
        lines += [str(r) for r in conn.execute(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 150) FROM pg_stat_activity"
            " WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()")]
        for link in sorted(farm.alerting - alerted)[:5]:
            name = f"feed{int(link.split('news')[1].split('.')[0]):04d}"
            state = conn.execute("SELECT last_fetch, next_due, error_count, last_error FROM sources WHERE name = %s",
                                 (name,)).fetchone()
            jobs = conn.execute("SELECT id, status, scheduled_at, attempts, worker_id FROM procrastinate_jobs"
                                " WHERE lock = %s ORDER BY id DESC LIMIT 3", (f"poll:{name}",)).fetchall()
            lines.append(f"{link} ({name}): state {state}, jobs {jobs}")
    return "\n".join(lines)


def test_workers_killed_at_random_lose_nothing_and_poll_each_source_once_per_interval(
    tmp_path: Path, farm: Farm, postgres_url: str
) -> None:
    rng = random.Random(7)
    with WebhookReceiver() as receiver:
        config = _config(tmp_path, farm, receiver, postgres_url)
        killed: list[float] = []
        port = free_port()  # when each SIGKILL was sent (time.monotonic(), as the farm's requests)
        with Engine(config, "run", "monitor running") as run, \
                Engine(config, "worker", "worker running", "--health-port", str(port)) as steady, \
                ExitStack() as replaced:
            workers = [replaced.enter_context(Engine(config, "worker", "worker running"))]
            began = time.monotonic()
            next_kill = began + rng.uniform(3, 6)
            while time.monotonic() - began < 25:
                farm.add(alerting=rng.random() < 0.5)
                time.sleep(rng.uniform(0.05, 0.3))
                if time.monotonic() >= next_kill:
                    killed.append(time.monotonic())
                    workers.pop().kill()  # SIGKILL, mid-poll or mid-delivery as it falls
                    workers.append(replaced.enter_context(Engine(config, "worker", "worker running")))
                    next_kill = time.monotonic() + rng.uniform(3, 6)
            if not _until(_delivered_everything(postgres_url, farm, receiver), 40):
                pytest.fail(f"{_stuck(postgres_url, farm)}\n{run.errors()[-3:]}\n{steady.errors()[-3:]}")
            replaced.close()
            errors = run.errors() + steady.errors()
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)  # the worker's own
            assert health.status_code == 200 and health.json()["polls"] > 0, health.text
        with psycopg.connect(postgres_url) as conn:
            alerted = {r[0] for r in conn.execute("SELECT url FROM alerts")}
    assert len(killed) >= 3
    assert not errors, errors[:3]
    assert farm.alerting and farm.alerting <= alerted  # every alerting item alerted, killed polls or not
    duplicates = len(receiver.urls) - len(set(receiver.urls))
    assert set(receiver.urls) == alerted
    assert duplicates <= len(killed)
    hits: dict[str, list[float]] = defaultdict(list)
    for seen in farm.server.requests:
        hits[seen.path].append(seen.at)
    # Fetched again within its interval only when the fetch before was a poll cut short by a kill (never recorded).
    early = [(earlier, later) for times in hits.values() for earlier, later in pairwise(times)
             if later - earlier < INTERVAL - SLACK]
    assert all(any(earlier <= kill <= later for kill in killed) for earlier, later in early), early
    # Fetched again within interval + jitter + a tick and SLACK, unless a kill fell between (its jobs wait for
    # stalled_after and the next recover).
    late = [(earlier, later) for times in hits.values() for earlier, later in pairwise(times)
            if later - earlier > INTERVAL + JITTER + 1 + SLACK]
    assert all(any(earlier <= kill <= later for kill in killed) for earlier, later in late), late
    assert len(hits) == FEEDS and sum(map(len, hits.values())) > FEEDS * 3  # polled on and on, not just killed
