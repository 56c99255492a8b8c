"""A small HTTP/1.1 server on one asyncio event loop: the demo service's listener.

Why not the standard library's ThreadingHTTPServer, which the service used before: it runs
a thread per connection. At a switch the router opens one server connection per client
session at once (256 under the switch benchmark's load), and 256 request threads on two
cores fought for the interpreter lock with the one thread committing the writes, so writes
waited over a second after their commit had returned (docs/decisions/switch-stall.md). Here
every connection is a coroutine on one thread; only the application's blocking calls (its
store) go to a few threads of its own.

What it speaks: requests framed by Content-Length (no chunked request bodies: such a
request is answered, then its connection closed), keep-alive by HTTP/1.1's default or
HTTP/1.0's `Connection: keep-alive`, `Expect: 100-continue`, no pipelining beyond reading
the next request after answering the last. On stop it stops accepting, closes idle
connections, lets requests in progress finish (up to a bound), and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

#: The listen backlog. At a switch the router opens one connection per client session to
#: the new colour at once (64-256 under full load); a short accept queue overflows
#: (TcpExtListenOverflows) and the kernel drops the handshakes, which come back only after
#: TCP's retransmission backoff (1 s, 3 s, 7 s, 15 s): seconds-long stalls at the router
#: step. The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096
MAX_HEAD = 16 * 1024  # request line and headers
STOP_GRACE_S = 10.0  # how long a stop waits for requests in progress


@dataclass(frozen=True)
class Request:
    """One request as read from the wire; header names are lower-cased."""

    method: str
    target: str
    version: str
    headers: Mapping[str, str]
    #: The declared body length; -1 when the body is not framed by Content-Length.
    content_length: int
    #: The body, read only when it is at most the server's max_body (empty otherwise).
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


@dataclass(frozen=True)
class Response:
    """What to answer; the server adds Content-Length, Date and Connection."""

    code: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    """The bytes are not an HTTP request this server can read; the connection ends."""


def _head(code: int, headers: tuple[tuple[str, str], ...], length: int, close: bool) -> bytes:
    try:
        reason = http.HTTPStatus(code).phrase
    except ValueError:  # a code the standard does not name
        reason = ""
    lines = [f"HTTP/1.1 {code} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    lines.append(f"Content-Length: {length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(raw: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = raw.decode("latin-1")
        request_line, *header_lines = text.split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError as exc:
        raise _BadRequest("malformed request line") from exc
    if not version.startswith("HTTP/1.") or not method.isalpha() or not target:
        raise _BadRequest("not an HTTP/1.x request")
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest("malformed header line")
        key = name.lower()
        # A repeated header joins its values, as HTTP allows for list-valued fields.
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return method, target, version, headers


def _content_length(headers: Mapping[str, str]) -> int:
    if "transfer-encoding" in headers:
        return -1
    value = headers.get("content-length", "0")
    if not value.isdigit():
        raise _BadRequest("malformed Content-Length")
    return int(value)


def _keeps_alive(version: str, headers: Mapping[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


class Server:
    """Serve one handler on any number of ports until stop() is called."""

    def __init__(self, handler: Handler, max_body: int) -> None:
        self.handler = handler
        self.max_body = max_body
        self.listeners: list[asyncio.Server] = []
        self.idle: set[asyncio.Task[None]] = set()  # waiting for a request's first bytes
        self.connections: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()

    async def listen(self, port: int) -> None:
        listener = await asyncio.start_server(
            self._connection, "0.0.0.0", port, backlog=LISTEN_BACKLOG, limit=MAX_HEAD
        )
        self.listeners.append(listener)

    def stop(self) -> None:
        """Stop accepting and close idle connections; requests in progress finish."""
        self.stopping.set()
        for listener in self.listeners:
            listener.close()
        for task in list(self.idle):
            task.cancel()

    async def stopped(self) -> None:
        """Return once stop() was called and the connections ended (or the grace ran out)."""
        await self.stopping.wait()
        if self.connections:
            await asyncio.wait(set(self.connections), timeout=STOP_GRACE_S)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            while not self.stopping.is_set():
                self.idle.add(task)
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                finally:
                    self.idle.discard(task)
                if not await self._answer(raw[:-4], reader, writer):
                    break
        except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError):
            pass  # the peer hung up, or a stop closed this idle connection
        except asyncio.LimitOverrunError:
            writer.write(_head(431, (), 0, close=True))
        except _BadRequest:
            writer.write(_head(400, (), 0, close=True))
        finally:
            self.connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(
        self, raw: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request's body, answer it; tell whether the connection may carry another."""
        method, target, version, headers = _parse_head(raw)
        length = _content_length(headers)
        body = b""
        if 0 < length <= self.max_body:
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await reader.readexactly(length)
        request = Request(method, target, version, headers, length, body)
        try:
            response = await self.handler(request)
        except Exception as exc:  # the handler's own error answer failed: a bare 500
            print(f"demo: {type(exc).__name__} answering {method} {request.path}", file=sys.stderr)
            response = Response(500, b"internal error", (("Content-Type", "text/plain"),))
        # A body left unread (too large, or not framed) would be read as the next request.
        again = 0 <= length <= self.max_body and _keeps_alive(version, headers)
        again = again and not self.stopping.is_set()
        # One write: head and body leave together, not as two segments.
        head = _head(response.code, response.headers, len(response.body), not again)
        writer.write(head + response.body)
        await writer.drain()
        return again
