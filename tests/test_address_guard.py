"""The address guard checks the address it connects to (issue 11, item 8).

A name is resolved once per connection and the connection goes to the addresses checked, so a name that
answers a public address to the check and a loopback one to the connect (DNS rebinding) reaches nothing
private. IPv6 forms that carry an IPv4 address are judged by that address. DNS is simulated at the event
loop's getaddrinfo, and the connect seam refuses every address but loopback: no test reaches a real
DNS server or any host beyond 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from asyncio import base_events, selector_events
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import pytest

from monitor import fetch as fetch_module
from monitor.errors import AddressRefused, FetchError, Unreachable
from monitor.fetch import Fetcher, FetchSettings, embedded_ipv4, is_public_address, public_addresses
from tests.servers import LoopbackServer

QUICK = FetchSettings(connect_timeout=2, read_timeout=5, total_timeout=10)
PUBLIC = "93.184.215.14"  # a public-looking answer; the connect seam never lets a connection reach it


@dataclass
class Network:
    """What the simulated resolver answers (per name, one list of addresses per lookup, the last repeated),
    the lookups it was asked and the addresses connections were started to."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)
    hang: set[str] = field(default_factory=set)  # addresses whose connect never completes

    def resolve(self, host: str | bytes, port: int) -> list[tuple[int, int, int, str, tuple[str, int]]]:
        host = host.decode() if isinstance(host, bytes) else host  # anyio asks in IDNA bytes
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        seen = sum(h == host for h in self.lookups) - 1
        plan = self.answers[host]
        answer = plan[min(seen, len(plan) - 1)]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    net = Network()
    connect = selector_events.BaseSelectorEventLoop.sock_connect

    async def getaddrinfo(loop: asyncio.AbstractEventLoop, host: str | bytes, port: int, **_: object) -> object:
        return net.resolve(host, port)

    async def sock_connect(
        loop: selector_events.BaseSelectorEventLoop, sock: socket.socket, address: tuple[str, int, *tuple[int, ...]]
    ) -> None:  # an AF_INET or AF_INET6 address
        net.connects.append(address[0])
        if address[0] in net.hang:
            await asyncio.sleep(3600)
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise OSError(errno.ENETUNREACH, "the test network reaches loopback only")
        await connect(loop, sock, address)

    monkeypatch.setattr(base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(selector_events.BaseSelectorEventLoop, "sock_connect", sock_connect)
    yield net


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("::ffff:0a00:0001", "10.0.0.1"),
        ("::ffff:0:127.0.0.1", "127.0.0.1"),  # IPv4-translated (SIIT)
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::8.8.8.8", "8.8.8.8"),
        ("64:ff9b::127.0.0.1", "127.0.0.1"),  # NAT64
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2002:c0a8:0101:1::5", "192.168.1.1"),
        ("2002:0808:0808::1", "8.8.8.8"),
        ("2606:4700:4700::1111", None),  # a plain IPv6 address carries none
        ("fec0::1", None),
        ("::1", None),  # loopback and unspecified, not 0.0.0.1 and 0.0.0.0
        ("::", None),
    ],
)
def test_embedded_ipv4(address: str, embedded: str | None) -> None:
    expected = ipaddress.IPv4Address(embedded) if embedded else None
    assert embedded_ipv4(ipaddress.IPv6Address(address)) == expected


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("::ffff:0:127.0.0.1", False),
        ("::ffff:0:10.1.2.3", False),
        ("::127.0.0.1", False),
        ("::10.0.0.1", False),
        ("::169.254.169.254", False),
        ("::8.8.8.8", True),
        ("64:ff9b::127.0.0.1", False),
        ("64:ff9b::10.1.2.3", False),
        ("64:ff9b::a9fe:a9fe", False),  # the cloud metadata address through NAT64
        ("64:ff9b::8.8.8.8", True),
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 (RFC 8215): never global
        ("2002:7f00:1::", False),
        ("2002:a9fe:a9fe::1", False),
        ("2002:c0a8:0101:1::5", False),
        ("2002:0808:0808::1", True),
        ("fec0::1", False),  # site-local
        ("feff:ffff::1", False),
        ("[fec0::1%2]", False),
        ("2606:4700:4700::1111", True),
    ],
)
def test_embedded_addresses_are_judged_by_what_they_embed(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_public_addresses_resolve_once_and_refuse_any_private_answer(network: Network) -> None:
    network.answers = {"news.test": [[PUBLIC, "2606:4700:4700::1111"]], "mixed.test": [[PUBLIC, "10.0.0.7"]]}
    assert await public_addresses("news.test", 80) == [PUBLIC, "2606:4700:4700::1111"]
    assert await public_addresses("8.8.8.8", 443) == ["8.8.8.8"]  # a literal needs no lookup
    with pytest.raises(AddressRefused, match=r"refused: mixed\.test is a non-public address \(10\.0\.0\.7\)"):
        await public_addresses("mixed.test", 80)
    with pytest.raises(AddressRefused, match=r"refused: ::ffff:127\.0\.0\.1 is a non-public address"):
        await public_addresses("::ffff:127.0.0.1", 80)
    assert network.lookups == ["news.test", "mixed.test"]
    with pytest.raises(OSError, match="Name or service not known"):
        await public_addresses("nosuch.test", 80)


@pytest.mark.parametrize(("allow_private", "guard"), [(False, False), (True, True)])
async def test_a_rebinding_name_cannot_reach_loopback(
    http_server: LoopbackServer, network: Network, allow_private: bool, guard: bool
) -> None:
    """The first answer (what a check would see) is public, every later one 127.0.0.1."""
    network.answers = {"rebind.test": [[PUBLIC], ["127.0.0.1"]]}
    url = http_server.route("/feed", b"<rss/>").replace("127.0.0.1", "rebind.test")
    async with Fetcher(QUICK, allow_private=allow_private) as f:
        with pytest.raises(Unreachable):  # it went to the public address, which the test network refuses
            await f.fetch(url, guard=guard)
        for _ in range(2):  # a new connection, a new lookup: refused before connecting
            with pytest.raises(AddressRefused, match=r"rebind\.test is a non-public address \(127\.0\.0\.1\)"):
                await f.fetch(url, guard=guard)
    assert http_server.hits["/feed"] == 0
    assert network.connects == [PUBLIC] and network.lookups == ["rebind.test"] * 3


async def test_a_name_with_a_private_answer_is_refused_before_any_connection(
    http_server: LoopbackServer, network: Network
) -> None:
    network.answers = {"mixed.test": [[PUBLIC, "127.0.0.1"]]}
    url = http_server.route("/feed", b"<rss/>").replace("127.0.0.1", "mixed.test")
    async with Fetcher(QUICK) as f:
        with pytest.raises(AddressRefused, match=r"refused: mixed\.test is a non-public address \(127\.0\.0\.1\)") as e:
            await f.fetch(url, guard=True)
    assert e.value.url == url and network.connects == [] and http_server.hits["/feed"] == 0


async def test_the_guarded_connection_goes_to_the_checked_address_and_keeps_the_name(
    http_server: LoopbackServer, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.1 plays a public host; a second lookup would answer 10.9.9.9, which is never asked for
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")
    network.answers = {"news.test": [["127.0.0.1"], ["10.9.9.9"]]}
    url = http_server.route("/feed", b"<rss/>").replace("127.0.0.1", "news.test")
    async with Fetcher(QUICK) as f:
        for _ in range(2):
            assert (await f.fetch(url, guard=True)).content == b"<rss/>"
    assert network.lookups == ["news.test"] and network.connects == ["127.0.0.1"]  # one connection, kept alive
    assert [seen.headers["host"] for seen in http_server.requests] == [url.split("/")[2]] * 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
async def test_tls_to_the_checked_address_names_the_host(
    network: Network, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SNI and the certificate check use the name, not the address connected to."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=news.test",
                    "-addext", "subjectAltName=DNS:news.test"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"<rss/>")

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")
    monkeypatch.setattr(certifi, "where", lambda: str(cert))  # the fetcher trusts this certificate
    network.answers = {"news.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]}
    try:
        async with Fetcher(QUICK) as f:
            assert (await f.fetch(f"https://news.test:{port}/feed", guard=True)).content == b"<rss/>"
            with pytest.raises(Unreachable, match="CERTIFICATE_VERIFY_FAILED"):  # a name the certificate is not for
                await f.fetch(f"https://other.test:{port}/feed", guard=True)
    finally:
        server.shutdown()
        server.server_close()
    assert names == ["news.test", "other.test"] and network.connects == ["127.0.0.1", "127.0.0.1"]


async def test_the_next_checked_address_is_tried_when_one_fails_or_hangs(
    http_server: LoopbackServer, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address.startswith("127."))
    network.answers = {"refused.test": [["127.0.0.3", "127.0.0.1"]], "slow.test": [["127.0.0.2", "127.0.0.1"]]}
    network.hang = {"127.0.0.2"}
    url = http_server.route("/feed", b"<rss/>")
    loop = asyncio.get_running_loop()
    async with Fetcher(QUICK) as f:
        assert (await f.fetch(url.replace("127.0.0.1", "refused.test"), guard=True)).status == 200
        began = loop.time()
        assert (await f.fetch(url.replace("127.0.0.1", "slow.test"), guard=True)).status == 200
        assert loop.time() - began < 1  # started beside the hanging one, not after the connect timeout
    assert network.connects == ["127.0.0.3", "127.0.0.1", "127.0.0.2", "127.0.0.1"]


async def test_a_guarded_name_that_does_not_resolve_is_unreachable(network: Network) -> None:
    async with Fetcher(QUICK) as f:
        with pytest.raises(Unreachable, match=r"cannot resolve nosuch\.test"):
            await f.fetch("http://nosuch.test/feed", guard=True)


async def test_allow_private_still_reaches_loopback(http_server: LoopbackServer, network: Network) -> None:
    network.answers = {"intranet.test": [["127.0.0.1"]]}
    url = http_server.route("/feed", b"<rss/>")
    async with Fetcher(QUICK, allow_private=True) as f:
        assert (await f.fetch(url)).status == 200
        assert (await f.fetch(url.replace("127.0.0.1", "intranet.test"))).status == 200
        with pytest.raises(FetchError, match="non-public"):
            await f.fetch(url.replace("127.0.0.1", "intranet.test"), guard=True)  # its own pool: not the one above
    assert http_server.hits["/feed"] == 2


async def test_a_public_feed_may_not_redirect_to_a_private_address(
    http_server: LoopbackServer, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed of a public host that redirects to the cloud metadata address (or any private one) is refused
    there, unless the source allows private addresses; nothing private is connected to."""
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")  # "public"
    network.answers = {"news.test": [["127.0.0.1"]], "metadata.test": [["169.254.169.254"]]}
    port = http_server.route("/", b"").split(":")[2].split("/")[0]
    url = http_server.redirect("/feed", f"http://metadata.test:{port}/latest/meta-data").replace(
        "127.0.0.1", "news.test")
    async with Fetcher(QUICK) as f:
        with pytest.raises(AddressRefused, match=r"metadata\.test is a non-public address \(169\.254\.169\.254\)"):
            await f.fetch(url, guard_redirects=True)
        assert "169.254.169.254" not in network.connects
        with pytest.raises(Unreachable):  # not guarded: followed, and the test network refuses the connection
            await f.fetch(url)
    assert network.connects[-1] == "169.254.169.254" and http_server.hits["/feed"] == 2


async def test_a_private_feed_may_redirect_within_private_addresses(http_server: LoopbackServer) -> None:
    """The operator's own private feed (a loopback or intranet URL) keeps its redirects."""
    target = http_server.route("/moved", b"<rss/>")
    url = http_server.redirect("/feed", target)
    async with Fetcher(QUICK) as f:
        result = await f.fetch(url, guard_redirects=True)
    assert result.content == b"<rss/>" and http_server.hits["/moved"] == 1
