"""A hostile web server on 127.0.0.1 for tests: every path misbehaves in its own way (raw sockets, no
framework manners), plus one well-behaved feed that grows a matching item on every request.

`HOSTILE` lists each behaviour with the path it lives on and what the monitor must make of it.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import socketserver
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

Writer = Callable[["_Handler"], None]
MB = 1_000_000


@dataclass(frozen=True)
class Behaviour:
    """One hostile path; `error` says whether the monitor must record the source as failing."""

    name: str
    error: bool
    retry_after: float | None = None  # the server asks for this many seconds


def _rss(items: str, charset: str = "utf-8") -> bytes:
    head = f'<?xml version="1.0" encoding="{charset}"?>\n<rss version="2.0"><channel><title>t</title>'
    return (head + items + "</channel></rss>").encode(charset, "xmlcharrefreplace")


def _item(n: int | str, title: str, text: str = "", guid: str | None = None, date: str = "") -> str:
    guid_tag = f"<guid isPermaLink='false'>{guid}</guid>" if guid else ""
    date_tag = f"<pubDate>{date}</pubDate>" if date else ""
    return (f"<item><title>{title}</title><link>https://hostile.example/{n}</link>{guid_tag}{date_tag}"
            f"<description>{text}</description></item>")


GOOD_TEXT = "Azerbaijan and Armenia accused each other of violating the ceasefire on the border."
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
    b"<link>https://hostile.example/laughs</link><description>bomb</description></item></channel></rss>"
)
XXE_SECRET = "TOP-SECRET-ENTITY-CONTENT"


def _xxe(secret_url: str, secret_file: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY file SYSTEM "file://' + secret_file + '">'
        '<!ENTITY web SYSTEM "' + secret_url + '">]>\n<rss version="2.0"><channel><title>t</title>'
        "<item><title>xxe &file; &web;</title><link>https://hostile.example/xxe</link>"
        "<description>external &file; &web;</description></item></channel></rss>"
    ).encode()


@cache
def _gzip_bomb() -> bytes:
    """About 100 KB of gzip that inflates to 100 MB of zeros."""
    return gzip.compress(bytes(100 * MB), compresslevel=9)


class _Server(socketserver.ThreadingTCPServer):
    hostile: HostileServer  # whose behaviours its handlers play


class HostileServer:
    """Threaded raw-socket server; `url(name)` is where behaviour `name` lives. Use as a context manager."""

    def __init__(self, secret_file: str) -> None:
        self.hits: Counter[str] = Counter()
        self.good_items = 0  # items the good feed has shown so far
        self.stopping = threading.Event()
        self.secret_file = secret_file
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=False)
        self._server.allow_reuse_address = True
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self._server.server_bind()
        self._server.server_activate()
        self._server.hostile = self
        self.closed_port = _closed_port()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, name: str) -> str:
        if name == "refused":
            return f"http://127.0.0.1:{self.closed_port}/feed.xml"
        return f"{self.base}/{name}"

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def good_feed(self) -> bytes:
        with self._lock:
            self.good_items += 1
            count = self.good_items
        items = "".join(_item(f"good/{n}", f"Border clash {n}", f"{GOOD_TEXT} Report {n}.") for n in range(count))
        return _rss(items)

    def answer(self, name: str) -> Writer:
        with self._lock:
            self.hits[name] += 1
        return WRITERS.get(name, _status(404, "Not Found"))


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    @property
    def hostile(self) -> HostileServer:
        return self.server.hostile

    def handle(self) -> None:
        line = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192).strip():
            pass
        if len(line) < 2:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the monitor hung up: expected
            self.hostile.answer(line[1].lstrip("/"))(self)

    def head(self, status: str, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]
        self.wfile.write("\r\n".join(lines).encode("latin-1"))

    def send(self, body: bytes, ctype: str = "application/rss+xml", status: str = "200 OK", **extra: str) -> None:
        self.head(status, {"Content-Type": ctype, "Content-Length": str(len(body)), **extra})
        self.wfile.write(body)


def _status(code: int, reason: str, retry_after: str | None = None) -> Writer:
    extra = {"Retry-After": retry_after} if retry_after else {}
    return lambda h: h.send(f"{code} {reason}\n".encode(), "text/plain", f"{code} {reason}", **extra)


def _redirect(location: str) -> Writer:
    return lambda h: h.head("302 Found", {"Location": location, "Content-Length": "0"})


def _reset(h: _Handler) -> None:
    h.head("200 OK", {"Content-Type": "application/rss+xml", "Content-Length": "100000"})
    h.wfile.write(_rss(_item(1, "half"))[:200])
    h.wfile.flush()
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST


def _hang(h: _Handler) -> None:
    h.hostile.stopping.wait()


def _drip(h: _Handler) -> None:
    body = _rss(_item(1, "slow"))
    h.head("200 OK", {"Content-Type": "application/rss+xml", "Content-Length": str(len(body))})
    for i in range(len(body)):
        if h.hostile.stopping.wait(1.0):
            return
        h.wfile.write(body[i : i + 1])
        h.wfile.flush()


def _huge(length: bool) -> Writer:
    def write(h: _Handler) -> None:
        headers = {"Content-Type": "application/rss+xml"}
        if length:
            headers["Content-Length"] = str(50 * MB)
        h.head("200 OK", headers)
        chunk = b"<!-- padding -->" * 65536  # 1 MB
        for _ in range(50 * MB // len(chunk)):
            if h.hostile.stopping.is_set():
                return
            h.wfile.write(chunk)

    return write


def _feed_of(build: Callable[[], bytes], ctype: str = "application/rss+xml") -> Writer:
    return lambda h: h.send(build(), ctype)


def _many() -> bytes:
    return _rss("".join(_item(f"many/{n}", f"Market report {n}", "Prices rose slightly.") for n in range(10_000)))


def _fat() -> bytes:
    return _rss(_item("fat", "Long read", "word " * (5 * MB // 5)))


def _duplicates() -> bytes:
    return _rss("".join(_item(f"dup/{n}", f"Ceasefire holds, copy {n}", GOOD_TEXT, guid="same-guid") for n in range(5)))


def _dates() -> bytes:
    return _rss(
        _item("future", "Truce talks from the future", "Planned talks.", date="Fri, 01 Jan 2100 00:00:00 GMT")
        + _item("epoch", "Truce talks from 1970", "Old talks.", date="Thu, 01 Jan 1970 00:00:00 GMT")
    )


WRITERS: dict[str, Writer] = {
    "reset": _reset,
    "hang": _hang,
    "drip": _drip,
    "500": _status(500, "Internal Server Error"),
    "502": _status(502, "Bad Gateway"),
    "503": _status(503, "Service Unavailable"),
    "503-retry-after": _status(503, "Service Unavailable", "4"),
    "404": _status(404, "Not Found"),
    "410": _status(410, "Gone"),
    "429": _status(429, "Too Many Requests", "4"),
    "redirect-loop": _redirect("/redirect-loop"),
    "redirect-ftp": _redirect("ftp://127.0.0.1/feed.xml"),
    "50mb": _huge(length=True),
    "50mb-no-length": _huge(length=False),
    "gzip-bomb": lambda h: h.send(_gzip_bomb(), **{"Content-Encoding": "gzip"}),
    "billion-laughs": _feed_of(lambda: LAUGHS),
    "external-entities": lambda h: h.send(_xxe(h.hostile.base + "/secret", h.hostile.secret_file)),
    "invalid-utf8": _feed_of(lambda: _rss(_item("utf8", "Перемирие", GOOD_TEXT)).replace(b"</t", b"\xff\xfe</t", 1)),
    "wrong-charset": lambda h: h.send(_rss(_item("cp1251", "Перемирие нарушено", "Текст."), "windows-1251")
                                      .replace(b'encoding="windows-1251"', b'encoding="utf-8"'),
                                      "application/rss+xml; charset=utf-8"),
    "empty": _feed_of(lambda: b""),
    "html-not-feed": _feed_of(lambda: b"<!doctype html><html><body><h1>Welcome</h1><p>No feed here.</p></body></html>",
                              "text/html"),
    "truncated": _feed_of(lambda: _rss(_item("trunc/1", "Whole item", "Fine.") + _item("trunc/2", "Cut", "Cut"))[:-60]),
    "10k-items": _feed_of(_many),
    "5mb-description": _feed_of(_fat),
    "duplicate-guids": _feed_of(_duplicates),
    "dates": _feed_of(_dates),
    "good": lambda h: h.send(h.hostile.good_feed()),
}

HOSTILE: list[Behaviour] = [
    Behaviour("refused", True),
    Behaviour("reset", True),
    Behaviour("hang", True),
    Behaviour("drip", True),
    Behaviour("500", True),
    Behaviour("502", True),
    Behaviour("503", True),
    Behaviour("503-retry-after", True, retry_after=4),
    Behaviour("404", True),
    Behaviour("410", True),
    Behaviour("429", True, retry_after=4),
    Behaviour("redirect-loop", True),
    Behaviour("redirect-ftp", True),
    Behaviour("50mb", True),
    Behaviour("50mb-no-length", True),
    Behaviour("gzip-bomb", True),
    Behaviour("billion-laughs", False),
    Behaviour("external-entities", False),
    Behaviour("invalid-utf8", False),
    Behaviour("wrong-charset", False),
    Behaviour("empty", True),
    Behaviour("html-not-feed", True),
    Behaviour("truncated", False),
    Behaviour("10k-items", False),
    Behaviour("5mb-description", False),
    Behaviour("duplicate-guids", False),
    Behaviour("dates", False),
]
