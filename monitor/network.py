"""The fetcher's network: httpcore's streams on asyncio's own transports.

httpx under asyncio reaches the network through anyio, which wraps every read and write in a cancel scope
and every connection attempt in a task group: about a tenth of the CPU of a conditional GET on a warm
cycle. This backend does the same work with a protocol object, a future per wait and `asyncio.timeout`,
raising httpcore's exceptions as its anyio backend does. TLS is asyncio's (`loop.start_tls`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

READ_BUFFER = 256 * 1024  # bytes received and not yet read at which the socket stops being read
HAPPY_EYEBALLS_DELAY = 0.25  # seconds before the next address is tried beside one that has not answered (RFC 8305)
# httpcore's names for what a stream can tell, and asyncio's transports' names for them
_EXTRA_INFO = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername", "socket": "socket"}


class _Receiver(asyncio.Protocol):
    """What a connection has received and not yet read, and whether it has ended; write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False  # the peer closed its side, or the connection is gone
        self.held = False  # the socket is not read until the buffer is
        self.lost: Exception | None = None
        self.arrived: asyncio.Future[None] | None = None  # a reader waits for data
        self.drained: asyncio.Future[None] | None = None  # writes wait while the transport's buffer is full

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= READ_BUFFER and self.transport is not None and not self.held:
            self.held = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close the transport: HTTP/1.1 has nothing to send after the server's end

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.lost = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)
        self.drained = None

    def _wake(self) -> None:
        if self.arrived is not None and not self.arrived.done():
            self.arrived.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection, plain or TLS."""

    def __init__(self, transport: asyncio.Transport, receiver: _Receiver) -> None:
        self._transport = transport
        self._receiver = receiver
        receiver.transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        r = self._receiver
        if not r.buffer and not r.ended:
            r.arrived = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await r.arrived
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(f"nothing received within {timeout} s") from exc
            finally:
                r.arrived = None
        if r.buffer:
            data = bytes(r.buffer[:max_bytes])
            del r.buffer[:max_bytes]
            if r.held and len(r.buffer) < READ_BUFFER and not self._transport.is_closing():
                r.held = False
                self._transport.resume_reading()
            return data
        if r.lost is not None:
            raise httpcore.ReadError(str(r.lost) or type(r.lost).__name__) from r.lost
        return b""  # the peer's end

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        r = self._receiver
        if self._transport.is_closing():
            raise httpcore.WriteError(str(r.lost) if r.lost else "the connection is closed")
        self._transport.write(buffer)
        if r.drained is not None:
            try:
                async with asyncio.timeout(timeout):
                    await r.drained
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(f"could not send within {timeout} s") from exc
            if r.lost is not None:
                raise httpcore.WriteError(str(r.lost) or type(r.lost).__name__) from r.lost

    async def aclose(self) -> None:
        """Close, then drop what could not be sent by the next loop turn: a peer that stops reading must not keep
        the connection (its socket and buffer) open for ever, as anyio's streams do not."""
        self._transport.close()
        await asyncio.sleep(0)
        self._transport.abort()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._receiver, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from exc
        except OSError as exc:  # ssl.SSLError included
            self._transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, self._receiver)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection the server has closed, or written to out of turn
            return bool(self._receiver.buffer) or self._receiver.ended
        name = _EXTRA_INFO.get(info)
        return self._transport.get_extra_info(name) if name else None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """TCP connections through the running event loop; a name's addresses are tried as RFC 8305 says, IPv6 and
    IPv4 in turns, the next one after HAPPY_EYEBALLS_DELAY beside one that has not answered."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, local_addr=local, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, receiver)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
