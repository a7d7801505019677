"""The fetcher's asyncio network backend against real loopback servers: data, ends, errors and flow control
as httpcore expects of a network stream (its anyio backend's behaviour)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore
import pytest

from monitor.fetch import Fetcher
from monitor.network import READ_BUFFER, AsyncioBackend

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on a free loopback port, running `handler` for each connection."""
    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()


async def read_all(stream: httpcore.AsyncNetworkStream) -> bytes:
    out = bytearray()
    while chunk := await stream.read(65536, timeout=5):
        out += chunk
    return bytes(out)


async def test_bytes_arrive_whole_past_the_read_buffer_and_the_end_reads_empty() -> None:
    body = bytes(range(256)) * (4 * READ_BUFFER // 256)  # four times what is buffered before reading pauses

    async def send(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(body)
        await writer.drain()
        writer.close()

    async with server(send) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await asyncio.sleep(0.2)  # the server has sent it all: the buffer filled and reading paused
        assert await read_all(stream) == body
        assert await stream.read(10, timeout=1) == b""
        await stream.aclose()


async def test_what_is_written_reaches_the_peer() -> None:
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def receive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.set_result(await reader.readexactly(11))
        writer.close()

    async with server(receive) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"hello ")
        await stream.write(b"")
        await stream.write(b"world")
        assert await asyncio.wait_for(got, 5) == b"hello world"
        await stream.aclose()


async def test_a_silent_peer_is_a_read_timeout_and_a_peer_that_never_reads_a_write_timeout() -> None:
    quiet = asyncio.Event()

    async def never_read(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await quiet.wait()
        writer.close()

    async with server(never_read) as port:
        stream = await AsyncioBackend().connect_tcp(
            "127.0.0.1", port, timeout=5, socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
        )
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.2)
        with pytest.raises(httpcore.WriteTimeout):
            for _ in range(1000):  # the peer's receive buffer and ours fill, then the transport's
                await stream.write(b"x" * 1_000_000, timeout=0.2)
        await stream.aclose()  # with unsent bytes: the connection goes at once, not when the peer reads
        await asyncio.sleep(0.1)
        assert stream.get_extra_info("is_readable") is True  # the connection is lost (its end seen)
        quiet.set()


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)


async def test_a_peer_that_closes_an_idle_connection_makes_it_readable() -> None:
    """httpcore drops an idle pooled connection that reads as readable: its server closed it."""
    async def close_soon(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with server(close_soon) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        for _ in range(50):
            if stream.get_extra_info("is_readable"):
                break
            await asyncio.sleep(0.02)
        assert stream.get_extra_info("is_readable") is True
        assert stream.get_extra_info("server_addr")[1] == port
        assert stream.get_extra_info("ssl_object") is None
        await stream.aclose()


async def test_the_fetcher_reconnects_when_the_server_closed_its_kept_alive_connection() -> None:
    """Each answer says keep-alive and the server then closes: the next fetch must not use the dead connection."""
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\n<rss/>")
        await writer.drain()
        writer.close()

    async with server(answer_once) as port, Fetcher() as fetcher:
        for _ in range(3):
            assert (await fetcher.fetch(f"http://127.0.0.1:{port}/feed")).content == b"<rss/>"
            await asyncio.sleep(0.1)
    assert connections == 3
