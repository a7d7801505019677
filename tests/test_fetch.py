"""The fetcher against a real HTTP server on 127.0.0.1: limits, caps, redirects, errors, guard, backoff."""

from __future__ import annotations

import asyncio
import gzip
import http.cookiejar
import itertools
import random
import socket
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import fetch as fetch_module
from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchSettings, is_public_address
from monitor.retry import backoff, parse_retry_after
from tests.servers import LoopbackServer
from tests.testdata import FEEDS

RSS2 = (FEEDS / "real" / "nodefeedparser_rss2sample.xml").read_bytes()
QUICK = FetchSettings(connect_timeout=2, read_timeout=5, total_timeout=10)


def fetcher(settings: FetchSettings = QUICK, *, allow_private: bool = True) -> Fetcher:
    return Fetcher(settings, allow_private=allow_private)


async def test_fetch_returns_body_headers_and_charset(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2, content_type="application/rss+xml; charset=ISO-8859-1")
    async with fetcher() as f:
        result = await f.fetch(url, headers={"X-Probe": "yes"})
        await f.fetch(url, headers={"User-Agent": "operator-choice/1.0"})
    assert (result.status, result.content, result.final_url) == (200, RSS2, url)
    assert result.content_type == "application/rss+xml"
    assert result.charset is not None and result.charset.lower() == "iso-8859-1"
    assert result.etag == http_server.routes["/feed"].etag
    assert result.last_modified == http_server.routes["/feed"].last_modified
    seen = http_server.requests[0].headers
    assert seen["user-agent"].startswith("ceasefire-monitor/") and seen["x-probe"] == "yes"
    assert http_server.requests[1].headers["user-agent"] == "operator-choice/1.0"  # per-source headers win
    assert "gzip" in seen["accept-encoding"] and "br" in seen["accept-encoding"]


async def test_conditional_get_gets_304_without_body(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2)
    async with fetcher() as f:
        first = await f.fetch(url)
        by_etag = await f.fetch(url, etag=first.etag)
        by_date = await f.fetch(url, last_modified=first.last_modified)
        changed = await f.fetch(url, etag='"stale"')
    assert first.status == 200 and not first.not_modified
    assert by_etag.not_modified and by_etag.content == b""
    assert by_date.status == 304 and by_date.content == b""
    assert changed.status == 200 and changed.content == RSS2
    assert http_server.requests[1].headers["if-none-match"] == first.etag
    assert http_server.requests[2].headers["if-modified-since"] == first.last_modified


async def test_connections_are_kept_alive_across_200_and_304(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2)
    async with fetcher() as f:
        first = await f.fetch(url)
        for _ in range(4):
            assert (await f.fetch(url, etag=first.etag)).not_modified
    assert http_server.hits["/feed"] == 5 and http_server.connections == 1


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw, as some servers send
        ("br", brotli.compress),
    ],
)
async def test_compressed_bodies_are_decoded(http_server: LoopbackServer, encoding: str, encode: object) -> None:
    assert callable(encode)
    url = http_server.route("/feed", encode(RSS2), headers={"Content-Encoding": encoding})
    async with fetcher() as f:
        result = await f.fetch(url)
    assert result.content == RSS2


async def test_unknown_content_encoding_is_taken_as_is(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2, headers={"Content-Encoding": "UTF-8"})  # a misconfiguration seen in the wild
    async with fetcher() as f:
        assert (await f.fetch(url)).content == RSS2


async def test_corrupt_compressed_body_is_a_fetch_error(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", b"\x1f\x8b\x08\x00" + RSS2, headers={"Content-Encoding": "gzip"})
    async with fetcher() as f:
        with pytest.raises(FetchError, match="cannot decode gzip body"):
            await f.fetch(url)


async def test_gzip_on_the_fly_is_decoded(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2, gzip=True)
    async with fetcher() as f:
        assert (await f.fetch(url)).content == RSS2


async def test_body_over_the_cap_is_refused(http_server: LoopbackServer) -> None:
    small = FetchSettings(max_bytes=10_000, read_timeout=5)
    declared = http_server.route("/declared", bytes(20_000))
    streamed = http_server.route("/streamed", bytes(20_000), content_length=False)
    fits = http_server.route("/fits", bytes(10_000), content_length=False)
    async with fetcher(small) as f:
        for url in (declared, streamed):
            with pytest.raises(FetchError, match="larger than 10000 bytes"):
                await f.fetch(url)
        assert len((await f.fetch(fits)).content) == 10_000


@pytest.mark.parametrize(("encoding", "bomb"), [("gzip", gzip.compress(bytes(30_000_000), 9)), ("br", None)])
async def test_compression_bomb_is_refused_on_decompressed_size(
    http_server: LoopbackServer, encoding: str, bomb: bytes | None
) -> None:
    bomb = bomb or brotli.compress(bytes(30_000_000), quality=5)
    assert len(bomb) < 1_000_000  # small on the wire, 30 MB inflated
    url = http_server.route("/bomb", bomb, headers={"Content-Encoding": encoding})
    async with fetcher(FetchSettings(max_bytes=1_000_000)) as f:
        with pytest.raises(FetchError, match="larger than 1000000 bytes"):
            await f.fetch(url)


async def test_redirects_are_followed_up_to_the_limit(http_server: LoopbackServer) -> None:
    final = http_server.route("/feed", RSS2)
    for i in range(6):
        http_server.redirect(f"/r{i}", f"/r{i + 1}" if i < 5 else "/feed", status=(301, 302, 307, 308)[i % 4])
    async with fetcher(FetchSettings(max_redirects=5)) as f:
        result = await f.fetch(http_server.url("/r1"))  # 5 redirects: allowed
        assert (result.url, result.final_url, result.content) == (http_server.url("/r1"), final, RSS2)
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await f.fetch(http_server.url("/r0"))  # 6 redirects
    async with fetcher(FetchSettings(max_redirects=0)) as f:
        with pytest.raises(FetchError, match="more than 0 redirects"):
            await f.fetch(http_server.url("/r5"))


def cookies_sent(server: LoopbackServer, path: str) -> list[str]:
    """The cookie names of the last request the server saw on `path`."""
    headers = next(r.headers for r in reversed(server.requests) if r.path == path)
    header = next((v for k, v in headers.items() if k.lower() == "cookie"), "")
    return [part.split("=")[0].strip() for part in header.split(";") if part.strip()]


async def test_a_cookie_set_by_a_redirect_hop_is_sent_on_the_next(http_server: LoopbackServer) -> None:
    http_server.route("/feed", RSS2)
    http_server.route("/consent", status=302, headers={"Location": "/feed", "Set-Cookie": "consent=yes; Path=/"},
                      conditional=False)
    async with fetcher() as f:
        await f.fetch(http_server.url("/consent"))
    assert cookies_sent(http_server, "/feed") == ["consent"]


async def test_a_host_setting_a_new_cookie_every_time_cannot_grow_the_jar(http_server: LoopbackServer) -> None:
    many = fetch_module.COOKIES_PER_DOMAIN * 2 + 7
    for n in range(many):
        http_server.route(f"/c{n}", RSS2, headers={"Set-Cookie": f"c{n}=x; Path=/"})
    http_server.route("/probe", RSS2)
    async with fetcher() as f:
        for n in range(many):
            await f.fetch(http_server.url(f"/c{n}"))
        await f.fetch(http_server.url("/probe"))
    sent = cookies_sent(http_server, "/probe")
    assert f"c{many - 1}" in sent and 0 < len(sent) <= fetch_module.COOKIES_PER_DOMAIN


def test_the_jar_holds_at_most_its_total_however_many_domains_set_cookies() -> None:
    jar = fetch_module.BoundedCookieJar()
    per_domain = fetch_module.COOKIES_PER_DOMAIN
    domains = fetch_module.COOKIES // per_domain + 3
    for d in range(domains):
        for n in range(per_domain):
            jar.set_cookie(http.cookiejar.Cookie(0, f"c{n}", "x", None, False, f"host{d}.example", True, False, "/",
                                                 True, False, None, True, None, None, {}))
    assert 0 < len(jar) <= fetch_module.COOKIES
    assert any(c.domain == f"host{domains - 1}.example" for c in jar)  # the newest is kept


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/feed", "file:///etc/passwd", "javascript:alert(1)"])
async def test_redirect_to_another_scheme_is_refused(http_server: LoopbackServer, target: str) -> None:
    url = http_server.redirect("/away", target)
    async with fetcher() as f:
        with pytest.raises(FetchError, match=r"only http and https|InvalidURL"):  # httpx itself rejects some
            await f.fetch(url)
        with pytest.raises(FetchError, match="only http and https"):
            await f.fetch(target)


async def test_retry_after_seconds_on_429(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", b"slow down", status=429, headers={"Retry-After": "120"})
    async with fetcher() as f:
        with pytest.raises(FetchError) as caught:
            await f.fetch(url)
    assert (caught.value.status, caught.value.retry_after, caught.value.url) == (429, 120.0, url)


async def test_retry_after_http_date_on_503(http_server: LoopbackServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    url = http_server.route("/feed", b"", status=503, headers={"Retry-After": when})
    async with fetcher() as f:
        with pytest.raises(FetchError) as caught:
            await f.fetch(url)
    assert caught.value.status == 503
    assert caught.value.retry_after is not None and 500 < caught.value.retry_after <= 600


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_other_error_statuses_carry_no_retry_after(http_server: LoopbackServer, status: int) -> None:
    url = http_server.route("/feed", b"no", status=status, headers={"Retry-After": "120"})
    async with fetcher() as f:
        with pytest.raises(FetchError, match=f"HTTP {status}") as caught:
            await f.fetch(url)
    assert (caught.value.status, caught.value.retry_after) == (status, None)


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("0", now) == 0.0
    assert parse_retry_after(" 3600 ", now) == 3600.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:05:00 GMT", now) == 300.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0.0  # a date in the past: now
    for bad in (None, "", "-5", "soon", "1.5e3"):
        assert parse_retry_after(bad, now) is None


async def test_server_that_never_answers_times_out(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", hang=True)
    async with fetcher(FetchSettings(read_timeout=0.3, total_timeout=10)) as f:
        with pytest.raises(FetchError, match="timed out"):
            await f.fetch(url)


async def test_total_timeout_bounds_a_dripping_body(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2, drip=0.05)  # every byte in time, the whole body never
    async with fetcher(FetchSettings(read_timeout=5, total_timeout=0.5)) as f:
        with pytest.raises(FetchError, match=r"no complete answer within 0\.5 s"):
            await f.fetch(url)


async def test_connection_refused_is_a_fetch_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with fetcher() as f:
        with pytest.raises(FetchError, match="ConnectError"):
            await f.fetch(f"http://127.0.0.1:{port}/feed")


async def test_per_host_limit_is_honoured(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2, delay=0.2)
    async with fetcher(FetchSettings(per_host=2, max_connections=50)) as f:
        results = await asyncio.gather(*(f.fetch(url) for _ in range(8)))
    assert all(r.status == 200 for r in results)
    assert http_server.max_active == 2


async def test_global_limit_is_honoured(http_server: LoopbackServer) -> None:
    path = http_server.route("/feed", RSS2, delay=0.2).removeprefix(http_server.base)
    hosts = [http_server.base, http_server.base.replace("127.0.0.1", "localhost")]
    async with fetcher(FetchSettings(per_host=4, max_connections=3)) as f:
        await asyncio.gather(*(f.fetch(hosts[i % 2] + path) for i in range(8)))
    assert http_server.max_active == 3


async def test_a_hanging_host_does_not_delay_another(http_server: LoopbackServer) -> None:
    stuck = http_server.route("/stuck", hang=True)
    fine = http_server.route("/feed", RSS2).replace("127.0.0.1", "localhost")
    async with fetcher(FetchSettings(per_host=2, read_timeout=5, total_timeout=5)) as f:
        hanging = [asyncio.create_task(f.fetch(stuck)) for _ in range(4)]  # every 127.0.0.1 slot taken
        result = await f.fetch(fine)
        assert result.content == RSS2 and not any(t.done() for t in hanging)
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)


async def test_guard_refuses_loopback_unless_allowed(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", RSS2)
    async with fetcher(allow_private=False) as f:
        with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is a non-public address") as caught:
            await f.fetch(url)
        assert caught.value.url == url
        with pytest.raises(FetchError, match=r"refused: localhost is a non-public address \(127\.0\.0\.1\)"):
            await f.fetch(url.replace("127.0.0.1", "localhost"))
    async with fetcher(allow_private=True) as f:
        with pytest.raises(FetchError, match="refused"):
            await f.fetch(url, guard=True)  # per fetch: article links taken from feeds
        assert (await f.fetch(url)).status == 200
    assert http_server.hits["/feed"] == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("[::1]", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
        ("example.com", False),  # not an address: resolve it first
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@given(
    errors=st.integers(min_value=0, max_value=10_000),
    retry_after=st.none() | st.floats(min_value=0, max_value=1e7),
    base=st.floats(min_value=0.1, max_value=3600),
    cap_factor=st.floats(min_value=1, max_value=1000),
    seed=st.integers(),
)
def test_backoff_is_bounded_and_honours_retry_after(
    errors: int, retry_after: float | None, base: float, cap_factor: float, seed: int
) -> None:
    cap = base * cap_factor
    delay = backoff(errors, retry_after, base, cap, random.Random(seed))
    ceiling = min(cap, base * 2 ** min(max(errors, 1) - 1, 64))
    assert delay >= ceiling / 2
    assert delay <= max(ceiling, retry_after or 0)
    assert delay >= (retry_after or 0)


def test_backoff_grows_then_caps_and_jitters() -> None:
    rng = random.Random(7)
    ceilings = [max(backoff(n, None, 60, 3600, rng) for _ in range(200)) for n in range(1, 10)]
    assert all(a < b for a, b in itertools.pairwise(ceilings[:7]))  # 60, 120, ... 3600
    assert all(3000 < c <= 3600 for c in ceilings[6:])  # capped
    spread = {backoff(3, None, 60, 3600, rng) for _ in range(50)}
    assert len(spread) > 40 and min(spread) >= 120 and max(spread) <= 240  # jittered within [d/2, d]


async def test_guard_checks_every_redirect_hop(http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # No public host exists here: 127.0.0.1 plays one, and its redirect points at loopback [::1].
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")
    port = http_server.url("/").split(":")[2].split("/")[0]
    feed = http_server.route("/feed", RSS2)
    async with fetcher(allow_private=False) as f:
        assert (await f.fetch(feed)).status == 200  # the "public" host itself is fetched
        hop = http_server.redirect("/hop", f"http://[::1]:{port}/feed")
        with pytest.raises(FetchError, match=r"non-public address \(::1\)"):
            await f.fetch(hop)


async def test_waiting_for_a_slot_counts_against_the_total_timeout(http_server: LoopbackServer) -> None:
    stuck = http_server.route("/stuck", hang=True)
    async with fetcher(FetchSettings(per_host=1, read_timeout=5, total_timeout=1)) as f:
        began = asyncio.get_running_loop().time()
        outcomes = await asyncio.gather(*(f.fetch(stuck) for _ in range(3)), return_exceptions=True)
        elapsed = asyncio.get_running_loop().time() - began
    assert all(isinstance(o, FetchError) for o in outcomes) and elapsed < 1.5  # not one second after another
    assert "for a connection" not in str(outcomes[0])  # the first had the slot; the others waited, and say so
    assert all(" for a connection" in str(o) for o in outcomes[1:]), outcomes


async def test_a_fetch_waits_for_the_global_pool_within_its_own_time_limit(http_server: LoopbackServer) -> None:
    stuck = http_server.route("/stuck", hang=True)
    fine = http_server.route("/feed", RSS2).replace("127.0.0.1", "localhost")
    async with fetcher(FetchSettings(max_connections=1, read_timeout=5, total_timeout=1)) as f:
        loop = asyncio.get_running_loop()
        began = loop.time()
        hanging = [asyncio.create_task(f.fetch(stuck)) for _ in range(3)]  # the one connection, and two waiting
        await asyncio.sleep(0.5)
        result = await f.fetch(fine)  # gets the connection when the first hanging fetch gives up, not the third
        elapsed = loop.time() - began
        errors = [str(e) for e in await asyncio.gather(*hanging, return_exceptions=True)]
    assert result.content == RSS2 and elapsed < 1.4
    assert errors[0] == "no complete answer within 1 s" and all(" for a connection" in e for e in errors[1:]), errors


async def test_another_port_of_a_hanging_address_has_slots_of_its_own(http_server: LoopbackServer) -> None:
    stuck = http_server.route("/stuck", hang=True)
    with LoopbackServer() as other:
        fine = other.route("/feed", RSS2)
        async with fetcher(FetchSettings(per_host=2, read_timeout=5, total_timeout=5)) as f:
            hanging = [asyncio.create_task(f.fetch(stuck)) for _ in range(4)]  # every slot of the hanging origin
            result = await asyncio.wait_for(f.fetch(fine), 2)
            assert result.content == RSS2 and not any(t.done() for t in hanging)
            for task in hanging:
                task.cancel()
            await asyncio.gather(*hanging, return_exceptions=True)
