"""What `monitor extract`, `parse` and `explain --url` read: a URL's body no larger than the fetcher's cap, and
a --url or --base that is not an http(s) URL refused as a usage error; `extract` on a page without article text
says so and exits 1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.fetch import FetchSettings
from tests.testdata import SEED

MB = 1_000_000
OFFERED = 64 * MB  # what the endless page sends before it gives up and closes the connection


class EndlessPage:
    """A page on 127.0.0.1 whose chunked body goes on (up to OFFERED bytes); `sent` counts what it got out."""

    def __init__(self) -> None:
        self.sent = 0
        page = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"<p>" + b"x" * (MB - 7) + b"</p>"
                frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                try:
                    while page.sent < OFFERED:
                        self.wfile.write(frame)
                        page.sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what the test wants
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/huge"


@pytest.fixture
def endless() -> Iterator[EndlessPage]:
    page = EndlessPage()
    threading.Thread(target=page.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield page
    finally:
        page.server.shutdown()
        page.server.server_close()


@pytest.mark.parametrize("command", [["extract"], ["parse"], ["explain", "ceasefire", "--url"]],
                         ids=["extract", "parse", "explain"])
def test_a_page_larger_than_the_fetchers_cap_is_refused_unread(
    command: list[str], endless: EndlessPage, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = FetchSettings().max_bytes
    assert main([*command, endless.url]) == 2
    err = capsys.readouterr().err
    assert err == f"error: cannot fetch {endless.url}: body larger than {limit} bytes\n"
    assert endless.sent < 4 * limit  # the cap and what the sockets' buffers held: the rest was never sent


@pytest.mark.parametrize("address", ["http://[bad", "notaurl", "ftp://ex.com/feed", "https://ex.com:99999/"])
@pytest.mark.parametrize(("command", "option"), [(["extract", str(SEED / "article.html")], "--url"),
                                                 (["parse", str(SEED / "feed.xml")], "--base")])
def test_a_page_address_that_is_not_an_http_url_is_a_usage_error(
    address: str, command: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, option, address])
    assert exit_.value.code == 2
    assert f"error: argument {option}: not an http(s) URL: {address!r}\n" in capsys.readouterr().err
    assert main([*command, option, "https://ex.com/news/"]) == 0


@pytest.mark.parametrize(
    "content",
    [
        '{"items": [1, 2]}',  # not HTML
        "<html><head><title>App</title><script>start()</script></head><body></body></html>",  # no text at all
        "<html><body><figure><img src='map.png' alt=''></figure></body></html>",  # a picture only
    ],
    ids=["json", "script-only", "picture-only"],
)
def test_extract_says_when_it_finds_no_article_text_and_exits_1(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text(content, encoding="utf-8")
    assert main(["extract", str(page)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"no article text found in {page}\n"  # and no library's own complaint
    assert main(["extract", str(page), "--json"]) == 1  # the normalised Article still printed, its body empty
    out, err = capsys.readouterr()
    assert json.loads(out)["body"] == "" and err == f"no article text found in {page}\n"
    assert main(["extract", str(SEED / "article.html")]) == 0
    out, err = capsys.readouterr()
    assert "TR-107" in out and err == ""
