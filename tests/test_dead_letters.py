"""Deliveries that cannot be made are capped and seen, with a real `monitor run` process and the Bot API stand-in.

Three stories reach one subscriber: the Bot API answers 500 to the first one, always, and accepts the
second with an answer python-telegram-bot cannot read. The first becomes a dead letter after
`max_attempts` (the admins are told, /healthz is degraded and says so, the metric counts it), the second
is delivered once, and the third arrives after both: one stuck delivery holds its chat only for its own
retries.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .botapi import BotApiStandIn, Fault
from .process import write_feed_config
from .servers import LoopbackServer
from .telegram_support import TOKEN, stand_in, telegram_config
from .test_health import sample
from .testdata import REPO

SUBSCRIBER = 7
OPERATOR = 42


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.1) as server:
        yield server


def feed(base: str, stories: range) -> bytes:
    """An RSS feed of the numbered stories, each a ceasefire violation in its description."""
    items = "".join(
        f"<item><title>Border report {n}</title><link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>"
        f"<description>Armenia and Azerbaijan accused each other of violating the ceasefire near village {n}"
        " on Tuesday.</description></item>"
        for n in stories
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 15.0) -> None:
    """Wait until the service `proc` answers /healthz with 200 on `port` (its stderr shows if it died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the service did not come up")


def write_config(workdir: Path, site: LoopbackServer, api: BotApiStandIn) -> tuple[Path, int]:
    telegram = telegram_config(api, admins=[OPERATOR], backoff_base=0.1, backoff_cap=0.3, max_attempts=3)
    return write_feed_config(workdir, site, telegram, interval=0.5)


def wait(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_stuck_delivery_is_dead_lettered_seen_and_passed_and_an_unreadable_2xx_is_delivered_once(
    http_server: LoopbackServer, api: BotApiStandIn, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(0)))
    api.poison("Border report 0", Fault("error", 500), chat=SUBSCRIBER)
    api.poison("Border report 1", Fault("garbled"), chat=SUBSCRIBER)
    config, port = write_config(tmp_path, http_server, api)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELEGRAM_BOT_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, proc)
        wait(lambda: any(method == "setMyCommands" for method, _ in api.calls))
        api.command(SUBSCRIBER, "/subscribe ceasefire")
        wait(lambda: len(api.messages(SUBSCRIBER)) == 1)
        http_server.route("/feed", feed(base, range(3)))
        wait(lambda: any(m.text.startswith("Border report 2") for m in api.messages(SUBSCRIBER)))
        wait(lambda: len(api.messages(OPERATOR)) == 1)
        time.sleep(1.0)  # over three backoff caps: any retry would have come
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            health, metrics = client.get("/healthz"), client.get("/metrics").text
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr[-3000:]
    alerts = [m.text.splitlines()[0] for m in api.messages(SUBSCRIBER)[1:]]
    assert alerts == ["Border report 1", "Border report 2"]  # in order; the stuck one held them only for its retries
    sends = [str(p["text"]) for m, p in api.calls if m == "sendMessage" and str(p["chat_id"]) == str(SUBSCRIBER)]
    assert sum("Border report 0" in t for t in sends) == 3 and sum("Border report 1" in t for t in sends) == 1

    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded" and body["dead_letters"] == 1
    assert any("dead letter" in reason for reason in body["reasons"])
    assert sample(metrics, "monitor_outbox_dead_letters") == 1

    [notice] = api.messages(OPERATOR)
    assert "dead letter" in notice.text and "Border report 0" in notice.text and f"chat {SUBSCRIBER}" in notice.text
    assert "given up after 3 attempts" in notice.text
    assert "answer could not be read" in stderr and "given up after 3 attempts" in stderr
    assert TOKEN not in stderr and TOKEN not in notice.text
