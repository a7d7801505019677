"""One delivering process per database, with real `monitor run` and `monitor once` processes.

A second `monitor run` on a database refuses to start and names the process holding it; a SIGKILL frees
the database for the next one. `monitor once` against a database a service is using polls and records,
and leaves the delivery to the service: with a slow webhook receiver, nothing arrives twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .process import write_feed_config
from .receivers import WebhookReceiver
from .servers import LoopbackServer
from .test_dead_letters import feed, wait_healthy
from .testdata import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(delay=0.3) as r:
        yield r


def write_config(workdir: Path, site: LoopbackServer, hook: str) -> tuple[Path, int]:
    notifier = {"name": "hook", "kind": "webhook", "url": hook, "timeout": 5}
    return write_feed_config(workdir, site, notifier, interval=60)  # one poll at start: later is for `once`


def monitor(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor", *args], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return proc.returncode


def test_a_second_service_on_one_database_refuses_to_start_and_a_sigkill_frees_it(
    http_server: LoopbackServer, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    http_server.route("/feed", feed(http_server.base, range(0)))
    config, port = write_config(tmp_path, http_server, receiver.url)
    first = monitor("run", "--config", str(config), cwd=tmp_path)
    try:
        wait_healthy(port, first)
        second = subprocess.run([sys.executable, "-m", "monitor", "run", "--config", str(config)], cwd=tmp_path,
                                env=ENV, capture_output=True, text=True, timeout=20)
        assert second.returncode == 2
        assert f"the database {tmp_path / 'db.sqlite3'} is in use by monitor run (PID {first.pid})" in second.stderr
        assert first.poll() is None  # the first one runs on
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
        third = monitor("run", "--config", str(config), cwd=tmp_path)  # the kernel dropped the dead one's lock
        try:
            wait_healthy(port, third)
        finally:
            assert stop(third) == 0
    finally:
        stop(first, signal.SIGKILL)


def test_once_beside_a_running_service_records_and_leaves_the_delivery_to_it(
    http_server: LoopbackServer, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(12)))
    config, port = write_config(tmp_path, http_server, receiver.url)
    service = monitor("run", "--config", str(config), cwd=tmp_path)
    try:
        wait_healthy(port, service)
        for _ in range(100):  # the service has made its 12 alerts and is delivering them, 0.3 s each
            if receiver.urls:
                break
            time.sleep(0.1)
        http_server.route("/feed", feed(base, range(14)))  # two more stories, for `once` to find
        once = subprocess.run([sys.executable, "-m", "monitor", "once", "--quiet", "--config", str(config)],
                              cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=30)
        assert once.returncode == 0, once.stderr
        assert f"in use by monitor run (PID {service.pid})" in once.stderr
        assert "leaves their delivery to it" in once.stderr
        assert "2 alert(s)" in once.stderr
        expected = {f"{base}/story/{n}" for n in range(14)}
        for _ in range(150):  # the service delivers what `once` recorded (its dispatcher looks every 5 s)
            if set(receiver.urls) >= expected:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # nothing more should come
    finally:
        assert stop(service) == 0
    assert sorted(receiver.urls) == sorted(expected)  # each once: nothing lost, nothing twice
