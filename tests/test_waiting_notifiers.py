"""A notifier that cannot start keeps its alerts, with real `monitor run` and `monitor once` processes.

A webhook whose `secret_env` is unset, or Telegram without a token, waits: the alerts made meanwhile stay owed
to it (`/healthz` says it is waiting and why, `monitor_notifier_up` is 0, `check-config` says so), and once it
can start (a restart with the secret, a token file that appears before a SIGHUP) it delivers every one of
them, oldest first, once. A `monitor once` beside a running service owes its alerts to the configured
notifiers, not to the ones it could build itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml

from monitor import config as config_mod
from monitor.errors import ConfigError
from monitor.notify import NOTIFIER_KINDS
from monitor.once import run_once
from monitor.records import Alert
from monitor.service import Service
from monitor.store import Store

from .botapi import BotApiStandIn
from .process import write_feed_config
from .receivers import WebhookReceiver
from .servers import LoopbackServer
from .telegram_support import TOKEN, stand_in, telegram_config, until
from .test_dead_letters import feed, wait, wait_healthy
from .test_health import sample
from .testdata import REPO

SECRET_ENV = "HOOK_SECRET"
SECRET = "hook-secret-never-logged-0123456789"
SUBSCRIBERS = (7, 8)
CHANNEL = "@ceasefire_alerts"
SECRETS = (SECRET_ENV, "TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE")
BASE_ENV = {k: v for k, v in os.environ.items() if k not in SECRETS}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as r:
        yield r


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with stand_in(0.1) as server:
        yield server


def write_config(workdir: Path, site: LoopbackServer, notifier: dict[str, Any], interval: float = 0.5) -> Path:
    return write_feed_config(workdir, site, notifier, interval)[0]


def signed_hook(receiver: WebhookReceiver) -> dict[str, Any]:
    """The webhook notifier for `receiver`, its secret in ${SECRET_ENV}."""
    return {"name": "hook", "kind": "webhook", "url": receiver.url, "secret_env": SECRET_ENV, "timeout": 5}


class Run:
    """`monitor run --config CONFIG` in its own process, with `env` added to a clean environment."""

    def __init__(self, config: Path, env: Mapping[str, str] = {}) -> None:
        self.port = int(yaml.safe_load(config.read_text())["health"]["port"])
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                                     cwd=config.parent, env={**BASE_ENV, "PYTHONPATH": str(REPO), **env},
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout = self.stderr = ""

    def __enter__(self) -> Run:
        wait_healthy(self.port, self.proc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.stdout, self.stderr = self.proc.communicate()
        assert self.proc.returncode == 0, self.stderr[-3000:]

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()
        return body

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text


def alert_urls(workdir: Path) -> list[str]:
    """The URLs of the stored alerts, oldest first (the order they are owed in)."""
    with sqlite3.connect(workdir / "db.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT url FROM alerts ORDER BY id")]


def stories(base: str, numbers: range) -> list[str]:
    return [f"{base}/story/{n}" for n in numbers]


def test_a_webhook_without_its_secret_waits_and_after_a_restart_with_it_delivers_everything_once_in_order(
    http_server: LoopbackServer, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(3)))
    hook = signed_hook(receiver)
    config = write_config(tmp_path, http_server, hook)

    check = subprocess.run([sys.executable, "-m", "monitor", "check-config", "--config", str(config)],
                           env={**BASE_ENV, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert f"notifier hook (webhook): waiting: notifier hook: the secret variable ${SECRET_ENV} is not set" in (
        check.stdout)

    with Run(config) as first:  # no secret: the webhook cannot start
        wait(lambda: first.health()["outbox_depth"] == 3)
        http_server.route("/feed", feed(base, range(5)))  # two more stories while it waits
        wait(lambda: first.health()["outbox_depth"] == 5)
        health, metrics = first.health(), first.metrics()
    assert health["status"] == "degraded"
    [waiting] = health["notifiers_waiting"]
    assert waiting["name"] == "hook" and waiting["kind"] == "webhook"
    assert f"${SECRET_ENV} is not set" in waiting["reason"]
    assert any("notifier hook" in r and "cannot start" in r for r in health["reasons"])
    assert sample(metrics, "monitor_notifier_up", notifier="hook") == 0
    assert "[ALERT] ceasefire: Border report 0" in first.stdout  # the console prints them as well, as an extra
    assert receiver.urls == []

    with Run(config, {SECRET_ENV: SECRET}) as second:
        wait(lambda: len(receiver.urls) >= 5)
        wait(lambda: second.health()["outbox_depth"] == 0)
        health, metrics = second.health(), second.metrics()
    assert receiver.urls == alert_urls(tmp_path)  # every alert, oldest first, once
    assert sorted(receiver.urls) == sorted(stories(base, range(5)))
    assert all(receiver.signed)
    assert health["status"] == "ok" and health["notifiers_waiting"] == []
    assert sample(metrics, "monitor_notifier_up", notifier="hook") == 1
    assert SECRET not in second.stderr


def test_telegram_without_a_token_waits_and_after_a_restart_with_one_every_subscriber_gets_each_alert_once(
    http_server: LoopbackServer, api: BotApiStandIn, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(0)))
    config = write_config(tmp_path, http_server, telegram_config(api))

    with Run(config, {"TELEGRAM_BOT_TOKEN": TOKEN}):  # two chats subscribe
        wait(lambda: any(method == "setMyCommands" for method, _ in api.calls))
        for chat in SUBSCRIBERS:
            api.command(chat, "/subscribe ceasefire")
        wait(lambda: all(api.messages(chat) for chat in SUBSCRIBERS))

    http_server.route("/feed", feed(base, range(3)))
    with Run(config) as tokenless:  # the token is gone: three stories come meanwhile
        wait(lambda: tokenless.health()["outbox_depth"] == 3)
        health = tokenless.health()
    [waiting] = health["notifiers_waiting"]
    assert waiting["name"] == "telegram" and "no bot token" in waiting["reason"] and health["status"] == "degraded"

    with Run(config, {"TELEGRAM_BOT_TOKEN": TOKEN}) as third:
        wait(lambda: all(len(alerts_to(api, chat)) >= 3 for chat in SUBSCRIBERS))
        wait(lambda: third.health()["outbox_depth"] == 0)
    expected = [f"Border report {n}" for n in range(3)]
    for chat in SUBSCRIBERS:
        assert alerts_to(api, chat) == expected  # oldest first, once each
    assert TOKEN not in third.stderr


def alerts_to(api: BotApiStandIn, chat: int | str) -> list[str]:
    """The first lines of the alert messages a chat received, in order."""
    return [m.text.splitlines()[0] for m in api.messages(chat) if m.text.startswith("Border report")]


def test_a_token_file_that_appears_before_a_sighup_starts_telegram_and_it_sends_what_it_was_owed(
    http_server: LoopbackServer, api: BotApiStandIn, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(3)))
    channel = {"chat": CHANNEL, "watchlists": ["ceasefire"]}
    config = write_config(tmp_path, http_server, telegram_config(api, channels=[channel]))
    token_file = tmp_path / "bot_token"
    with Run(config, {"TELEGRAM_BOT_TOKEN_FILE": str(token_file)}) as service:
        wait(lambda: service.health()["outbox_depth"] == 3)
        [waiting] = service.health()["notifiers_waiting"]
        assert "cannot read $TELEGRAM_BOT_TOKEN_FILE" in waiting["reason"]
        token_file.write_text(TOKEN + "\n", encoding="utf-8")
        service.proc.send_signal(signal.SIGHUP)
        wait(lambda: len(alerts_to(api, CHANNEL)) >= 3)
        wait(lambda: service.health()["notifiers_waiting"] == [] and service.health()["outbox_depth"] == 0)
        assert service.health()["status"] == "ok"
        assert sample(service.metrics(), "monitor_notifier_up", notifier="telegram") == 1
    assert alerts_to(api, CHANNEL) == [f"Border report {n}" for n in range(3)]


def test_once_beside_a_service_owes_its_alerts_to_the_configured_notifiers_not_to_those_it_can_build(
    http_server: LoopbackServer, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    base = http_server.base
    http_server.route("/feed", feed(base, range(2)))
    hook = signed_hook(receiver)
    config = write_config(tmp_path, http_server, hook, interval=60)  # the service polls once, at start
    with Run(config, {SECRET_ENV: SECRET}) as service:
        wait(lambda: len(receiver.urls) == 2)
        http_server.route("/feed", feed(base, range(4)))
        once = subprocess.run([sys.executable, "-m", "monitor", "once", "--quiet", "--config", str(config)],
                              cwd=tmp_path, env={**BASE_ENV, "PYTHONPATH": str(REPO)},  # without the secret
                              capture_output=True, text=True, timeout=30)
        assert once.returncode == 0, once.stderr
        assert "leaves their delivery to it" in once.stderr and "2 alert(s)" in once.stderr
        wait(lambda: len(receiver.urls) >= 4)
        wait(lambda: service.health()["outbox_depth"] == 0)
    assert receiver.urls == alert_urls(tmp_path) and sorted(receiver.urls) == sorted(stories(base, range(4)))


class Late:
    """A notifier kind that cannot start while `Late.missing` is set (its secret is not there yet)."""

    missing = True
    delivered: ClassVar[list[int]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    async def deliver(self, alert: Alert) -> None:
        Late.delivered.append(alert.id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def late(name: str, options: Mapping[str, Any], store: Store) -> Late:
    if Late.missing:
        raise ConfigError(f"notifier {name}: the secret is not there yet")
    return Late(name)


@pytest.fixture
def late_kind() -> Iterator[None]:
    NOTIFIER_KINDS["late"] = late
    Late.missing, Late.delivered = True, []
    yield
    del NOTIFIER_KINDS["late"]


def in_process_config(workdir: Path, site: LoopbackServer) -> Path:
    path = write_config(workdir, site, {"name": "later", "kind": "late"}, interval=0.3)
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**data, "health": {"enabled": False}}), encoding="utf-8")
    return path


def test_a_waiting_notifier_is_tried_again_on_its_own_and_then_alerts_are_no_longer_owed_to_the_console(
    http_server: LoopbackServer, late_kind: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.route("/feed", feed(http_server.base, range(3)))
    service = Service(config_mod.load(in_process_config(tmp_path, http_server)))
    service.notifier_retry = 0.2  # no reload, no restart: the periodic retry starts it

    async def scenario() -> None:
        task = asyncio.create_task(service.run())
        await until(lambda: service.store.outbox_depth("later") == 3)
        assert list(service.roster.waiting) == ["later"] and service.roster.owed() == ["later", "console"]
        Late.missing = False
        await until(lambda: len(Late.delivered) == 3)
        assert service.roster.owed() == ["later"] and service.check_health()[1]["notifiers_waiting"] == []
        service.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert Late.delivered == sorted(Late.delivered)
    assert capsys.readouterr().out.count("[ALERT] ceasefire: Border report") == 3  # printed as well, meanwhile


def test_once_keeps_the_alerts_of_a_notifier_that_cannot_start_for_a_later_pass(
    http_server: LoopbackServer, late_kind: None, tmp_path: Path
) -> None:
    http_server.route("/feed", feed(http_server.base, range(2)))
    settings = config_mod.load(in_process_config(tmp_path, http_server))
    first = asyncio.run(run_once(settings))
    assert len(first.alerts) == 2 and Late.delivered == []
    Late.missing = False
    second = asyncio.run(run_once(settings))
    assert second.alerts == [] and Late.delivered == [a.id for a in first.alerts]
