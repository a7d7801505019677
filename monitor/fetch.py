"""The shared HTTP client: limits, timeouts, size cap, conditional GET, redirects, address guard.

One `Fetcher` wraps one `httpx.AsyncClient` for the whole process. Every failure is a `FetchError`
(with the HTTP status and the server's `Retry-After` when there is one), so callers handle one type.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from itertools import zip_longest
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import anyio
import brotli
import certifi
import httpcore
import httpx
from pydantic import BaseModel, ConfigDict, Field

from monitor.durations import Seconds
from monitor.errors import AddressRefused, FetchError, Unreachable
from monitor.network import HAPPY_EYEBALLS_DELAY, AsyncioBackend
from monitor.records import FetchResult
from monitor.retry import parse_retry_after

USER_AGENT = "ceasefire-monitor/0.1 (news monitoring; +https://github.com/ceasefire-monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
CONTENT_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate", "br"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
AUTH_STATUSES = frozenset({401, 403})  # a refusal that the source's withheld headers may explain
# Cloud metadata endpoints that are not caught by the link-local/private checks.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254")})
# IPv6 prefixes whose last 32 bits are an IPv4 address: IPv4-compatible, -mapped, -translated (SIIT), NAT64.
IPV4_CARRIERS = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
# IPv6 ranges never public, whatever ipaddress says: site-local (deprecated), local-use NAT64 (RFC 8215).
NEVER_PUBLIC = tuple(ipaddress.IPv6Network(n) for n in ("fec0::/10", "64:ff9b:1::/48"))
GUARD = "monitor.guard"  # request extension: True connects to public addresses only (GuardedBackend)
GUARDED = {GUARD: True}
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})", re.IGNORECASE)
COOKIES_PER_DOMAIN = 50  # RFC 6265's least a client should keep per domain, and the most this one does
COOKIES = 3000  # ... and in all


class FetchSettings(BaseModel):
    """Limits and manners of the fetcher (the `fetch:` section of the config, whose FetchConfig adds backoff)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = USER_AGENT
    max_connections: int = Field(50, ge=1)  # in flight at once, all hosts together
    per_host: int = Field(4, ge=1)  # in flight at once to one host (scheme, name and port: an origin)
    connect_timeout: Seconds = 10.0
    read_timeout: Seconds = 20.0  # between two bytes of the answer
    total_timeout: Seconds = 45.0  # whole fetch: waiting for connection slots and redirects included
    max_bytes: int = Field(5_000_000, ge=1024)  # of the body after decompression
    max_redirects: int = Field(5, ge=0, le=20)


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast IP address; False for loopback, private, link-local, site-local,
    metadata, multicast, reserved and unspecified addresses, for an IPv6 address that carries a non-public
    IPv4 one (`embedded_ipv4`), and for anything that is not an IP address."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in NEVER_PUBLIC):
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast and ip not in METADATA_ADDRESSES


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address `ip` stands for: IPv4-mapped, -translated, -compatible (not `::1`, `::`), NAT64
    (64:ff9b::/96) or 6to4 (2002::/16); None for any other IPv6 address."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if int(ip) > 1 and any(ip in net for net in IPV4_CARRIERS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` stands for (itself when it is an IP address, else one lookup), in the resolver's
    order; AddressRefused unless every one is public, OSError when the name does not resolve."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not is_public_address(address):
            raise AddressRefused(f"refused: {host} is a non-public address ({address})", host)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects to public addresses only, and to exactly those it checked: the name is resolved once per
    connection and the connection made to the addresses found (so a second answer, DNS rebinding, is never
    asked for); TLS and the Host header still name the host."""

    def __init__(self, network: httpcore.AsyncNetworkBackend) -> None:
        self._network = network

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                try:
                    addresses = await public_addresses(host, port)
                except OSError as exc:
                    raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
                return await self._first(_interleaved(addresses), port, local_address, socket_options)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host} within {timeout} s") from exc

    async def _first(
        self,
        addresses: list[str],
        port: int,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first address that accepts one, each next address tried when the one before
        failed or has not answered within HAPPY_EYEBALLS_DELAY (RFC 8305); the last error when none does."""
        connected: list[httpcore.AsyncNetworkStream] = []
        errors: list[httpcore.ConnectError] = []

        async def attempt(address: str, over: anyio.Event) -> None:
            try:
                connected.append(await self._network.connect_tcp(
                    address, port, local_address=local_address, socket_options=socket_options
                ))
                group.cancel_scope.cancel()
            except httpcore.ConnectError as exc:
                errors.append(exc)
            finally:
                over.set()

        async with anyio.create_task_group() as group:
            for address in addresses:
                over = anyio.Event()
                group.start_soon(attempt, address, over)
                with anyio.move_on_after(HAPPY_EYEBALLS_DELAY):
                    await over.wait()
        for extra in connected[1:]:  # two that connected at the same moment
            await extra.aclose()
        if not connected:
            raise errors[-1]
        return connected[0]

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


def _interleaved(addresses: list[str]) -> list[str]:
    """IPv6 and IPv4 addresses in turns, the resolver's first family first, each family in its order (RFC 8305)."""
    first = ":" in addresses[0]
    same = [a for a in addresses if (":" in a) == first]
    other = [a for a in addresses if (":" in a) != first]
    return [a for pair in zip_longest(same, other) for a in pair if a is not None]


class _Decoder:
    """Bounded decompression of one Content-Encoding: never inflates more than the caller has room for."""

    def __init__(self, encoding: str, url: str) -> None:
        self.encoding = encoding
        self.url = url
        self._zlib: zlib._Decompress | None = None
        self._brotli: brotli.Decompressor | None = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        # deflate: zlib-wrapped or raw, decided on the first bytes

    def decode(self, data: bytes, room: int) -> bytes:
        """Decompress `data`; returns more than `room` bytes only to say the body is too large."""
        try:
            if self._brotli is not None:
                out: bytes = self._brotli.process(data, output_buffer_limit=room + 1)
                return out
            if self._zlib is None:
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if _zlib_header(data) else -zlib.MAX_WBITS)
            return self._zlib.decompress(data, room + 1)
        except (zlib.error, brotli.error) as exc:
            raise FetchError(f"cannot decode {self.encoding} body: {exc}", self.url) from exc


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class PerHostTransport(httpx.AsyncBaseTransport):
    """One small connection pool per host behind the one shared client, and the address guard.

    httpcore's pool bookkeeping grows with the connections a pool holds, so one pool for every host
    costs several times the CPU per request of a few connections per host. The TLS context is shared, and
    the connections are asyncio's (`AsyncioBackend`).
    A request with the GUARD extension goes through pools of their own, whose connections GuardedBackend
    makes, so it never rides on a connection made without the check.
    """

    def __init__(self, per_host: int) -> None:
        self._limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)
        self._tls: ssl.SSLContext | None = None  # made for the first https origin: loading the CAs takes 20 ms
        self._no_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # http origins' (never used; it trusts no one)
        network = AsyncioBackend()
        self._networks: dict[bool, httpcore.AsyncNetworkBackend] = {False: network, True: GuardedBackend(network)}
        self._pools: dict[tuple[bool, str, str, int | None], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        guarded = bool(request.extensions.get(GUARD))
        key = (guarded, *_origin(request.url))
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._pool(self._networks[guarded], self._context(request.url.scheme))
        return await pool.handle_async_request(request)

    def _context(self, scheme: str) -> ssl.SSLContext:
        if scheme != "https":
            return self._no_tls
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls

    def _pool(self, network: httpcore.AsyncNetworkBackend, tls: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
        """httpx's transport over an httpcore pool whose connections `network` makes (httpx has no option for it)."""
        transport = httpx.AsyncHTTPTransport(verify=tls, limits=self._limits)
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=self._limits.max_connections,
            max_keepalive_connections=self._limits.max_keepalive_connections,
            keepalive_expiry=self._limits.keepalive_expiry,
            network_backend=network,
        )
        return transport

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


class BoundedCookieJar(http.cookiejar.CookieJar):
    """The client's cookie jar, bounded as RFC 6265 (6.1) allows: a domain's cookies are forgotten when
    it sets more than COOKIES_PER_DOMAIN, and all of them when the jar would hold more than COOKIES, so a
    feed that sets a new cookie on every response cannot grow the process without end."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        with self._cookies_lock:  # type: ignore[attr-defined]  # CookieJar's own (re-entrant) lock
            held = self._cookies.get(cookie.domain, {})  # type: ignore[attr-defined]  # domain -> path -> name
            if sum(map(len, held.values())) >= COOKIES_PER_DOMAIN:
                self.clear(cookie.domain)
            if len(self) >= COOKIES:
                self.clear_expired_cookies()
                if len(self) >= COOKIES:
                    self.clear()
            super().set_cookie(cookie)


class Fetcher:
    """Polite, bounded HTTP GETs over one shared client. Use as `async with Fetcher(settings) as f:`.

    `allow_private=False` refuses every address that is not public; `fetch(..., guard=True)` does the
    same for one fetch (article links taken from feeds). The check is PerHostTransport's, made on the
    addresses connected to.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        allow_private: bool = True,
    ) -> None:
        self.settings = s = settings or FetchSettings()
        self.allow_private = allow_private
        self._client = httpx.AsyncClient(
            transport=PerHostTransport(s.per_host),
            limits=httpx.Limits(max_connections=s.max_connections, max_keepalive_connections=s.max_connections),
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=None),
            headers={"User-Agent": s.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate, br"},
            follow_redirects=False,
            cookies=BoundedCookieJar(),
        )
        self._global = asyncio.Semaphore(s.max_connections)
        self._origins: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        headers_for: str | None = None,
        guard: bool = False,
        guard_redirects: bool = False,
    ) -> FetchResult:
        """GET `url` (conditionally when `etag`/`last_modified` are given); a 304 comes back with no body.

        `guard`: every hop to public addresses only. `guard_redirects`: a public host may redirect only to
        public addresses (an operator's own private URL and its redirects stay reachable).

        `headers` (a source's own: credentials, cookies) go only to the origin (scheme, host, port) of
        `headers_for`, default `url`: not to a URL of another origin, nor to any hop after a redirect leaves it.
        Raises FetchError for network errors, timeouts, statuses other than 2xx/304, bodies over
        `max_bytes`, too many redirects, non-HTTP redirects and (when guarded) non-public addresses.
        """
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        scoped = dict(headers or {})  # sent while the fetch stays on the origin they belong to
        home = _origin(_http_url(headers_for or url, url)) if scoped else None
        guarded = guard or not self.allow_private
        s = self.settings
        clock = asyncio.get_running_loop().time
        current = url
        waited = 0.0  # seconds spent waiting for connection slots, over the hops so far
        since: float | None = None  # when the current hop began to wait for its slots (None: it holds them)
        try:
            async with asyncio.timeout(s.total_timeout):
                for _ in range(s.max_redirects + 1):
                    target = _http_url(current, url)
                    if scoped and _origin(target) != home:
                        scoped = {}  # left the origin: not sent again, even to a redirect back to it
                    withheld = bool(headers) and not scoped
                    since = clock()
                    async with self._slot(target):
                        waited, since = waited + clock() - since, None
                        outcome = await self._get(url, target, {**scoped, **conditional}, withheld, guarded)
                    if isinstance(outcome, FetchResult):
                        return outcome
                    if guard_redirects and not guarded:
                        guarded = await _is_public_host(target)  # from here on, as with guard
                    current = outcome
        except TimeoutError:
            if since is not None:
                raise FetchError(f"waited {s.total_timeout:g} s for a connection ({s.per_host} per host and"
                                 f" {s.max_connections} in all were busy)", url) from None
            spent = f" ({waited:.1f} s of it waiting for a connection)" if waited >= s.total_timeout / 10 else ""
            raise FetchError(f"no complete answer within {s.total_timeout:g} s{spent}", url) from None
        raise FetchError(f"more than {s.max_redirects} redirects", url)

    @asynccontextmanager
    async def _slot(self, target: httpx.URL) -> AsyncIterator[None]:
        """Hold one slot of the target's origin and one global slot; the origin's first, so requests to a busy
        or hanging host wait without holding connections other hosts need."""
        per_host = self._origins.setdefault(_origin(target), asyncio.Semaphore(self.settings.per_host))
        async with per_host, self._global:
            yield

    async def _get(
        self, url: str, target: httpx.URL, headers: Mapping[str, str], withheld: bool, guarded: bool
    ) -> FetchResult | str:
        """One request: the result, or the absolute address a redirect points to; `withheld`: without the
        source's headers, which a refusal's error then says; `guarded`: to public addresses only."""
        extensions = GUARDED if guarded else None
        try:
            async with self._client.stream("GET", target, headers=headers, extensions=extensions) as response:
                status = response.status_code
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    return urljoin(str(response.url), response.headers["location"])
                if status != 304 and not 200 <= status < 300:
                    raise _status_error(url, response, withheld)
                content = await self._read(url, response)  # read to the end even for a 304: keeps the connection
        except AddressRefused as exc:  # from GuardedBackend, which knows the host but not the URL
            raise AddressRefused(str(exc), url) from None
        except httpx.ConnectTimeout as exc:
            raise Unreachable(f"timed out (ConnectTimeout) fetching {target}", url) from exc
        except httpx.ConnectError as exc:
            raise Unreachable(f"ConnectError fetching {target}: {exc}", url) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__}) fetching {target}", url) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"{type(exc).__name__} fetching {target}: {exc}", url) from exc
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=status,
            content=content,
            content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
            charset=response.charset_encoding,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            max_age=_max_age(response.headers.get("cache-control", "")),
        )

    async def _read(self, url: str, response: httpx.Response) -> bytes:
        """The decompressed body, streamed; FetchError as soon as it (raw or decoded) passes `max_bytes`."""
        limit = self.settings.max_bytes
        too_large = f"body larger than {limit} bytes"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(too_large, url, status=response.status_code)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        decoder = _Decoder(encoding, url) if encoding in CONTENT_ENCODINGS else None  # unknown: as is, like browsers
        raw = 0
        body = bytearray()
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            body += decoder.decode(chunk, limit - len(body)) if decoder else chunk
            if raw > limit or len(body) > limit:
                raise FetchError(too_large, url, status=response.status_code)
        return bytes(body)


async def _is_public_host(url: httpx.URL) -> bool:
    """Whether the host of `url` is public (True too when it no longer resolves: in doubt, guard)."""
    try:
        await public_addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
    except AddressRefused:
        return False
    except OSError:
        pass  # in doubt, guard: the guarded connection resolves the next host itself
    return True


def _http_url(address: str, asked: str) -> httpx.URL:
    """`address` as an httpx URL; FetchError unless it is http(s) with a host."""
    what = "redirect to" if address != asked else "URL"
    try:
        scheme = urlsplit(address).scheme.lower()
        target = httpx.URL(address) if scheme in ("http", "https") else None
    except (ValueError, httpx.InvalidURL) as exc:
        raise FetchError(f"invalid {what} {address!r}: {exc}", asked) from exc
    if target is None:
        raise FetchError(f"{what} {address!r} refused: only http and https are fetched", asked)
    if not target.host:
        raise FetchError(f"invalid {what} {address!r}: no host", asked)
    return target


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (None: the scheme's default) of `url`, the unit of trust and of connection pools."""
    return url.scheme, url.host.lower(), url.port


def _max_age(cache_control: str) -> float | None:
    """Seconds of a `Cache-Control` header's max-age directive; None without one."""
    found = _MAX_AGE.search(cache_control)
    return float(found[1]) if found else None


def _status_error(url: str, response: httpx.Response, withheld: bool) -> FetchError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in RETRY_AFTER_STATUSES else None
    notes = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
    if withheld and status in AUTH_STATUSES:
        where = f"{response.url.scheme}://{response.url.netloc.decode()}"
        notes += f" (the source's headers were not sent to {where}: they go to the source's own origin only)"
    return FetchError(f"HTTP {status} {response.reason_phrase}{notes}", url, status=status, retry_after=retry_after)
