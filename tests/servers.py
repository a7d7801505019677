"""A small real HTTP server on 127.0.0.1 for tests: fixed routes with the manners of a web server.

Each route has a body and optional behaviour: status code and extra headers (Retry-After, Location),
ETag/Last-Modified with 304 answers, gzip on the fly, a delay before answering, hanging forever,
dripping the body byte by byte, or no Content-Length. The server counts hits, connections and
concurrent requests.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

CONTENT_TYPES = {
    ".json": "application/feed+json",
    ".html": "text/html",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
}
LAST_MODIFIED = "Wed, 25 Nov 2026 12:00:00 GMT"


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    content_type: str = "application/xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # extra headers, e.g. Retry-After, Location
    conditional: bool = True  # send ETag and Last-Modified; answer 304 to a matching conditional GET
    last_modified: str = LAST_MODIFIED
    gzip: bool = False  # compress the body on the fly (Content-Encoding: gzip)
    delay: float = 0.0  # seconds to wait before answering
    hang: bool = False  # read the request, then never answer (until the server stops)
    drip: float = 0.0  # seconds between single bytes of the body
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Seen:
    """One request as the server received it, and when (time.monotonic())."""

    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class LoopbackServer:
    """Threaded HTTP/1.1 server on an ephemeral 127.0.0.1 port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self.connections = 0  # TCP connections accepted (keep-alive reuses one)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, body: bytes = b"", **options: Any) -> str:
        """Serve `body` on `path` (options: the fields of Route, which checks them); returns the full URL."""
        self.routes[path] = Route(body, **options)
        return self.url(path)

    def file(self, path: str, file: Path, **options: Any) -> str:
        """Serve a file's bytes on `path`, typed by its suffix unless `content_type` is given."""
        options.setdefault("content_type", CONTENT_TYPES.get(file.suffix, "application/xml"))
        return self.route(path, file.read_bytes(), **options)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.route(path, status=status, headers={"Location": location}, conditional=False)

    def __enter__(self) -> LoopbackServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _enter(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits[path] += 1
            self.requests.append(Seen(path, headers))
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server.connections += 1

        def do_GET(self) -> None:
            server._enter(self.path, {k.lower(): v for k, v in self.headers.items()})
            self._waiting = True
            try:
                self._answer(server.routes.get(self.path))
            finally:
                self._answering()

        def _answering(self) -> None:
            """The request stops counting as active once its answer starts: the client may send its next one
            as soon as it has read this answer, before this thread gets back from writing it."""
            if self._waiting:
                self._waiting = False
                server._leave()

        def _answer(self, route: Route | None) -> None:
            if route is None:
                self._answering()
                self.send_error(404)
                return
            if route.hang:
                server._stopping.wait()
                self.close_connection = True
                return
            if route.delay:
                time.sleep(route.delay)
            self._answering()
            if route.conditional and self._not_modified(route):
                self.send_response(304)
                self.send_header("ETag", route.etag)
                if "Cache-Control" in route.headers:  # a 304 repeats the 200's Cache-Control (RFC 9110, 15.4.5)
                    self.send_header("Cache-Control", route.headers["Cache-Control"])
                self.end_headers()
                return
            self._send(route)

        def _not_modified(self, route: Route) -> bool:
            if "If-None-Match" in self.headers:
                return self.headers["If-None-Match"] == route.etag
            return self.headers.get("If-Modified-Since") == route.last_modified

        def _send(self, route: Route) -> None:
            body = gzip.compress(route.body) if route.gzip else route.body
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.conditional:
                self.send_header("ETag", route.etag)
                self.send_header("Last-Modified", route.last_modified)
            if route.gzip:
                self.send_header("Content-Encoding", "gzip")
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.content_length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self._write(body, route.drip)

        def _write(self, body: bytes, drip: float) -> None:
            try:
                if not drip:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    if server._stopping.wait(drip):
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (size cap, timeout): expected in tests

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler
