"""The demo service's HTTP/1.1 listener (include/demo/service/http_loop.py) on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.scripts import load

LOOP = Path(__file__).resolve().parents[3] / "include" / "demo" / "service" / "http_loop.py"


HTTP = load(LOOP, "demo_http_loop_under_test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def echo(request: Any) -> Any:
    """Answer with what was asked; /slow takes a moment; /boom raises."""
    if request.path == "/slow":
        await asyncio.sleep(0.3)
    if request.path == "/boom":
        raise RuntimeError("boom")
    text = f"{request.method} {request.path} {request.query} {request.content_length} "
    return HTTP.Response(200, text.encode() + request.body, (("X-Seen", "yes"),))


@asynccontextmanager
async def serving(handler: Callable[[Any], Awaitable[Any]] = echo) -> AsyncIterator[Any]:
    server = HTTP.Server(handler, 64)
    port = free_port()
    await server.listen(port)
    server.port = port
    try:
        yield server
    finally:
        server.stop()
        await server.stopped()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, dict[str, str], bytes]:
    writer.write(raw)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.strip().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 10))  # type: ignore[arg-type]


def test_keep_alive_carries_several_requests_and_a_body() -> None:
    async def scenario() -> None:
        async with serving() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            code, headers, body = await exchange(
                reader, writer, b"GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            assert (code, body) == (200, b"GET /a x=1 0 ")
            assert headers["x-seen"] == "yes" and "date" in headers
            assert "connection" not in headers  # HTTP/1.1 keeps the connection by default
            post = b"POST /w HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            code, _, body = await exchange(reader, writer, post)
            assert (code, body) == (200, b"POST /w  5 hello")
            writer.close()

    run(scenario())


def test_connections_that_must_not_be_reused_are_closed_after_the_answer() -> None:
    requests = [  # each with the body length the handler is told
        (b"GET / HTTP/1.0\r\n\r\n", b" 0 "),  # HTTP/1.0 without keep-alive
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", b" 0 "),
        # A body over the limit is not read: it would be parsed as the next request.
        (b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + b"x" * 100, b" 100 "),
        # A body not framed by Content-Length is not read either.
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b" -1 "),
    ]

    async def scenario() -> None:
        async with serving() as server:
            for raw, told in requests:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                code, headers, body = await exchange(reader, writer, raw)
                assert code == 200 and headers["connection"] == "close", raw
                assert body.endswith(told), body
                assert await reader.read() == b""  # the server closed it
                writer.close()

    run(scenario())


def test_malformed_requests_get_a_400_and_a_handler_error_a_500() -> None:
    async def scenario() -> None:
        async with serving() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            code, _, _ = await exchange(reader, writer, b"NOT-HTTP\r\n\r\n")
            assert code == 400 and await reader.read() == b""
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            oversized = b"GET / HTTP/1.1\r\nX-Pad: " + b"x" * (HTTP.MAX_HEAD + 1) + b"\r\n\r\n"
            code, _, _ = await exchange(reader, writer, oversized)
            assert code == 431 and await reader.read() == b""
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            code, _, body = await exchange(reader, writer, b"GET /boom HTTP/1.1\r\n\r\n")
            assert (code, body) == (500, b"internal error")
            code, _, _ = await exchange(reader, writer, b"GET /after HTTP/1.1\r\n\r\n")
            assert code == 200  # the connection survived the handler's error

    run(scenario())


def test_expect_continue_is_answered_before_the_body_is_sent() -> None:
    async def scenario() -> None:
        async with serving() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim.startswith(b"HTTP/1.1 100 ")
            code, _, body = await exchange(reader, writer, b"ok")
            assert (code, body) == (200, b"POST /e  2 ok")

    run(scenario())


def test_a_stop_finishes_requests_in_progress_and_closes_idle_connections() -> None:
    async def scenario() -> None:
        async with serving() as server:
            idle_reader, _ = await asyncio.open_connection("127.0.0.1", server.port)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /slow HTTP/1.1\r\n\r\n")
            await asyncio.sleep(0.1)  # the request is in progress
            server.stop()
            code, headers, _ = await exchange(reader, writer, b"")
            assert code == 200 and headers["connection"] == "close"
            assert await idle_reader.read() == b""  # closed without an answer
            await asyncio.wait_for(server.stopped(), 2)
            try:
                await asyncio.open_connection("127.0.0.1", server.port)
            except OSError:
                pass
            else:
                raise AssertionError("a stopped server still accepts connections")

    run(scenario())
