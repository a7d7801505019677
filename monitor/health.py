"""The service's HTTP endpoint: `/healthz` (JSON, 200 or 503), `/metrics` (Prometheus text) and `/`, the status
page (HTML, see `monitor.status`), served on a loopback host only unless the config asks for it.

A small asyncio server in the service's own event loop (no framework): one request per connection,
bounded request size and time. It listens on 127.0.0.1:9108 unless the config says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

MAX_HEADER_LINES = 100
REQUEST_TIMEOUT = 5.0
LINE_LIMIT = 8192
NO_SOURCE_REACHABLE = "no source is reachable: check the network or DNS"
# every answer: no script, no plugin, no frame, nothing fetched from elsewhere; the page's inline CSS only
SECURITY_HEADERS = (
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
)

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]
MetricsPage = Callable[[], bytes]
StatusPage = Callable[[], bytes]


def is_loopback(host: str) -> bool:
    """Whether `host` binds to this machine alone (127.0.0.0/8, ::1, localhost); a name or 0.0.0.0 does not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serves_status_page(host: str, configured: bool | None) -> bool:
    """`health.status_page`: true or false as set; unset (None), on a loopback host only."""
    return is_loopback(host) if configured is None else configured


@dataclass(frozen=True, slots=True)
class Liveness:
    """What /healthz judges: is the scheduler running, and did it run a poll job recently enough?"""

    scheduler_running: bool
    started: datetime
    last_job: datetime | None
    stale_after: float  # seconds without a poll job before the service counts as stuck


def assess(
    live: Liveness,
    now: datetime,
    details: dict[str, Any] | None = None,
    concerns: Sequence[str] = (),
    faults: Sequence[str] = (),
) -> tuple[bool, dict[str, Any]]:
    """(healthy, JSON body): healthy while the scheduler runs, the last poll job is recent and there are no
    `faults` (what keeps a running service from working, e.g. a failing database: "fail", 503).

    `concerns` (e.g. dead letters, every source failing) make a healthy service "degraded": still 200, the
    reasons say why.
    """
    reasons = list(faults)
    if not live.scheduler_running:
        reasons.append("scheduler is not running")
    since = live.last_job or live.started
    age = (now - since).total_seconds()
    if age > live.stale_after:
        what = "last poll job" if live.last_job else "start, and no poll job since"
        reasons.append(f"{what} was {age:.0f} s ago (limit {live.stale_after:.0f} s)")
    body: dict[str, Any] = {
        "status": "fail" if reasons else "degraded" if concerns else "ok",
        "reasons": [*reasons, *concerns],
        "started": live.started.isoformat(),
        "last_poll_job": live.last_job.isoformat() if live.last_job else None,
        **(details or {}),
    }
    return not reasons, body


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """Why a source's latest poll failed; `unreachable`: no connection could be made at all."""

    error: str
    unreachable: bool = False


class SourceHealth:
    """The latest poll outcome of each enabled source, and what they say together: whether every one fails.

    Kept in memory, from the polls themselves, so it holds when the store cannot record them.
    """

    def __init__(self) -> None:
        self._enabled: frozenset[str] = frozenset()
        self._failing: dict[str, SourceFailure] = {}

    def configure(self, enabled: Iterable[str], failing: Mapping[str, SourceFailure] | None = None) -> None:
        """The sources polled from now on (at start, with their stored failures, and on reload)."""
        self._enabled = frozenset(enabled)
        known = {**(failing or {}), **self._failing}
        self._failing = {name: f for name, f in known.items() if name in self._enabled}

    def observe(self, source: str, failure: SourceFailure | None) -> None:
        """Record a source's latest poll: how it failed, or None when it worked."""
        if failure is None:
            self._failing.pop(source, None)
        elif source in self._enabled:
            self._failing[source] = failure

    @property
    def failing(self) -> int:
        return len(self._failing)

    def concern(self) -> str | None:
        """Why the service is degraded when every enabled source fails; None while one works (or none is set up)."""
        if not self._enabled or len(self._failing) < len(self._enabled):
            return None
        if all(f.unreachable for f in self._failing.values()):
            return NO_SOURCE_REACHABLE
        return f"every source is failing ({len(self._enabled)}): see sources_failing, `monitor sources` and the log"


class HealthServer:
    """Serves `check()` on /healthz, `metrics()` on /metrics and `page()` on / (404 without one).
    `port=0` picks a free port (see `.port`)."""

    def __init__(
        self, host: str, port: int, check: HealthCheck, metrics: MetricsPage, page: StatusPage | None = None
    ) -> None:
        self.host = host
        self._port = port
        self._check = check
        self._metrics = metrics
        self._page = page
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self._port, limit=LINE_LIMIT)
        log.info("health and metrics on http://%s:%d/healthz and /metrics%s", self.host, self.port,
                 ", the status page on /" if self._page else "")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                method, path = await _read_request(reader)
            status, ctype, body = self._answer(method, path)
            head = (
                f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{SECURITY_HEADERS}Connection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + (b"" if method == "HEAD" else body))
            async with asyncio.timeout(REQUEST_TIMEOUT):
                await writer.drain()
        except (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that is slow, rude or gone gets nothing more
        except Exception:  # a bug in a check must not take the endpoint down
            log.exception("health endpoint failed")
        finally:
            writer.close()

    def _answer(self, method: str, path: str) -> tuple[HTTPStatus, str, bytes]:
        if method not in ("GET", "HEAD"):
            return HTTPStatus.METHOD_NOT_ALLOWED, "text/plain", b"GET only\n"
        if path == "/healthz":
            healthy, details = self._check()
            body = json.dumps(details, indent=1).encode() + b"\n"
            return (HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE), "application/json", body
        if path == "/metrics":
            return HTTPStatus.OK, CONTENT_TYPE_LATEST, self._metrics()
        if path == "/" and self._page is not None:
            return HTTPStatus.OK, "text/html; charset=utf-8", self._page()
        if path == "/":
            text = b"no status page here: health.status_page: true serves it (by default, on a loopback host only)\n"
            return HTTPStatus.NOT_FOUND, "text/plain", text
        return HTTPStatus.NOT_FOUND, "text/plain", b"try /, /healthz or /metrics\n"


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """Method and path of the request; its headers are read and ignored."""
    parts = (await reader.readline()).decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("not an HTTP request line")
    for _ in range(MAX_HEADER_LINES):
        if (await reader.readline()).strip() == b"":
            return parts[0].upper(), parts[1].split("?", 1)[0]
    raise ValueError("too many header lines")
