"""The health endpoint, the metrics it serves, and the log formats, on a real service and real sockets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from monitor import config as config_mod
from monitor.demo import StaticSite
from monitor.health import HealthServer, Liveness, assess
from monitor.logs import MASK, setup_logging
from monitor.metrics import Metrics
from monitor.records import PollReport
from monitor.service import Service
from tests.testdata import seed_source, write_config

from .servers import LoopbackServer

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def with_health(path: Path, **health: object) -> Path:
    data = yaml.safe_load(path.read_text())
    data["health"] = {"port": 0, **health}
    data["reload"] = {"watch": False}
    path.write_text(yaml.safe_dump(data))
    return path


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        if head.split("{")[0] == name and all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


async def started(service: Service) -> tuple[asyncio.Task[None], str]:
    task = asyncio.create_task(service.run())
    for _ in range(200):
        await asyncio.sleep(0.05)
        if service.health_server is not None and service.health_server.port:
            return task, f"http://127.0.0.1:{service.health_server.port}"
    raise AssertionError("the health endpoint did not start")


def test_healthz_and_metrics_of_a_running_service(site: StaticSite, tmp_path: Path) -> None:
    source = {**seed_source(site), "interval": 1, "jitter": 0}
    broken = {"name": "broken", "url": f"{site.base}/missing.xml", "interval": 1, "jitter": 0}
    path = with_health(write_config(tmp_path, [source, broken], [{"name": "out", "kind": "console"}]))
    service = Service(config_mod.load(path))

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        task, base = await started(service)
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(100):
                metrics = await client.get("/metrics")
                if sample(metrics.text, "monitor_alerts_total", watchlist="ceasefire"):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)  # let the dispatcher deliver
            health, metrics, other = await client.get("/healthz"), await client.get("/metrics"), await client.get("/x")
        service.stop()
        await asyncio.wait_for(task, 10)
        return health, metrics, other

    health, metrics, other = asyncio.run(scenario())
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["reasons"] == [] and body["polls"] >= 2
    assert body["sources_failing"] == 1
    text = metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
    assert sample(text, "monitor_polls_total", source="panarmenian", outcome="ok") >= 1
    assert sample(text, "monitor_articles_parsed_total", source="panarmenian") >= 3
    assert sample(text, "monitor_matches_total", watchlist="ceasefire") >= 1
    assert sample(text, "monitor_alerts_total", watchlist="ceasefire") == 1
    assert sample(text, "monitor_poll_errors_total", source="broken", kind="404") >= 1
    assert sample(text, "monitor_source_consecutive_errors", source="broken") >= 1
    assert sample(text, "monitor_poll_duration_seconds_count", source="panarmenian") >= 1
    assert sample(text, "monitor_outbox_depth") == 0
    assert "monitor_telegram_rate_limited_total" in text and "monitor_config_reloads_total" in text
    assert other.status_code == 404


def test_healthz_is_503_with_reasons_when_the_scheduler_stalls() -> None:
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    fresh = Liveness(True, start, start + timedelta(seconds=50), stale_after=60)
    assert assess(fresh, start + timedelta(seconds=100))[0] is True
    ok, body = assess(fresh, start + timedelta(seconds=111))
    assert not ok and body["status"] == "fail" and "61 s ago (limit 60 s)" in body["reasons"][0]
    ok, body = assess(Liveness(False, start, None, stale_after=60), start + timedelta(seconds=1))
    assert not ok and body["reasons"] == ["scheduler is not running"]


def test_health_server_answers_503_json_and_survives_garbage() -> None:
    verdict = {"healthy": False}

    def check() -> tuple[bool, dict[str, object]]:
        return verdict["healthy"], {"status": "ok" if verdict["healthy"] else "fail"}

    async def scenario() -> list[int]:
        async with HealthServer("127.0.0.1", 0, check, lambda: b"m 1\n") as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"\x00\x01 not http\r\n\r\n")
            await writer.drain()
            assert await reader.read() == b""  # dropped, and the server carries on
            writer.close()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                codes = [(await client.get("/healthz")).status_code]
                verdict["healthy"] = True
                codes.append((await client.get("/healthz?verbose=1")).status_code)
                codes.append((await client.post("/healthz")).status_code)
                codes.append((await client.get("/metrics")).status_code)
        return codes

    assert asyncio.run(scenario()) == [503, 200, 405, 200]


def test_each_service_has_its_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.observe_poll(PollReport("a", status=500, error="HTTP 500", error_type="FetchError"), 0.1)
    assert sample(one.render().decode(), "monitor_poll_errors_total", source="a", kind="500") == 1
    assert sample(two.render().decode(), "monitor_poll_errors_total", source="a", kind="500") == 0


@pytest.fixture
def root_logger() -> Iterator[None]:
    """Put the root logger's handlers and level back after a test that calls setup_logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("root_logger")
def test_json_logs_are_one_object_per_line_with_context_and_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    log = logging.getLogger("monitor.test")
    log.warning("source failed:\nsecond line", extra={"source": "apa", "alert": 7})
    log.info("calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.debug("not shown at INFO")
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        log.exception("crash", extra={"source": "apa"})
    lines = stream.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(lines) == 3
    assert events[0]["msg"] == "source failed:\nsecond line" and events[0]["source"] == "apa"
    assert events[0]["alert"] == 7 and events[0]["level"] == "WARNING"
    assert "ValueError" in events[2]["exc"]
    assert TOKEN not in stream.getvalue() and TOKEN.split(":")[1] not in stream.getvalue()
    assert MASK in events[1]["msg"]


@pytest.mark.usefixtures("root_logger")
def test_text_logs_show_context() -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", "text", stream)
    logging.getLogger("monitor.test").info("polled", extra={"source": "news-am", "status": 304})
    line = stream.getvalue().strip()
    assert line.endswith("INFO monitor.test source=news-am status=304: polled")


def test_a_gone_source_is_disabled_once_and_admins_are_told(http_server: LoopbackServer, tmp_path: Path) -> None:
    gone = {"name": "gone", "url": http_server.route("/gone.xml", b"", status=410), "interval": 0.2, "jitter": 0}
    path = with_health(write_config(tmp_path, [gone], [{"name": "out", "kind": "console"}]))
    service = Service(config_mod.load(path))
    told: list[str] = []
    service.admin_notices.append(told.append)

    async def scenario() -> str:
        task, base = await started(service)
        await asyncio.sleep(1.5)  # seven more chances to poll it
        async with httpx.AsyncClient(base_url=base) as client:
            text = (await client.get("/metrics")).text
        service.stop()
        await asyncio.wait_for(task, 10)
        return text

    metrics = asyncio.run(scenario())
    assert http_server.hits["/gone.xml"] == 1
    assert sample(metrics, "monitor_source_disabled", source="gone") == 1
    assert len(told) == 1 and "source gone disabled" in told[0] and "410" in told[0]
