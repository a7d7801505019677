"""A webhook receiver on 127.0.0.1 for tests: records every POST and answers it as the test says.

Options: `delay` seconds before a POST is recorded and answered; `secret` to check each POST's
`X-Monitor-Signature: sha256=<hex>` against (the HMAC-SHA256 of its body). What a test can set at any time:
`script`, (status, headers) answers used one per POST, oldest first, then `status` (204); `poison`, a
(marker, status) that answers every POST whose body carries the marker; `body`, sent with every answer
(`status` and `body` may be given at the start as well). A scripted Content-Length header is sent as is,
with that `body` (so a test can promise more than it sends).

Use it as a context manager (it stops when the `with` block ends; `stop()` may come earlier, once or more):

    @pytest.fixture
    def receiver() -> Iterator[WebhookReceiver]:
        with WebhookReceiver(delay=0.3) as r:
            yield r
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

SIGNATURE_HEADER = "X-Monitor-Signature"


class WebhookReceiver:
    """Records each POST in arrival order: `received` (headers, body), `urls` (the alert's `url`, for a JSON
    body that has one) and `signed` (whether its signature matches `secret`; always False without one)."""

    def __init__(
        self, *, delay: float = 0.0, secret: str | None = None, status: int = 204, body: bytes = b""
    ) -> None:
        self.delay = delay
        self.secret = secret
        self.status = status
        self.body = body
        self.script: list[tuple[int, dict[str, str]]] = []
        self.poison: tuple[bytes, int] | None = None
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.urls: list[str] = []
        self.signed: list[bool] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._stopped = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and close the port (nothing listens there afterwards)."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()

    def is_signed(self, signature: str | None, body: bytes) -> bool:
        if self.secret is None:
            return False
        return signature == "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def answer(self, body: bytes) -> tuple[int, dict[str, str]]:
        status, headers = self.script.pop(0) if self.script else (self.status, {})
        if self.poison is not None and self.poison[0] in body:
            status = self.poison[1]
        return status, headers

    def record(self, headers: dict[str, str], body: bytes, signature: str | None) -> None:
        self.received.append((headers, body))
        self.signed.append(self.is_signed(signature, body))
        try:
            url = json.loads(body).get("url")
        except (ValueError, AttributeError):
            url = None
        if isinstance(url, str):
            self.urls.append(url)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if receiver.delay:
                time.sleep(receiver.delay)
            receiver.record(dict(self.headers), body, self.headers.get(SIGNATURE_HEADER))
            status, headers = receiver.answer(body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)
            self.close_connection = "Content-Length" in headers  # a body cut short ends with the connection

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler
