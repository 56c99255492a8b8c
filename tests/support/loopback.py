"""A tiny HTTP service on loopback, in a thread, whose behaviour a test can change while it runs.

It stands in for the router's live listener in the watch tests: /health answers 200, every
other path 200 as well, until the test makes it fail (``fail_from``) or slow (``latency_ms``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    """What the service does now; tests change it while the service runs."""

    fail_from: float | None = None  # time.monotonic() after which non-health paths answer 500
    health_status: int = 200
    latency_ms: float = 0.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_in(self, seconds: float) -> None:
        """Make every non-health path answer 500 from ``seconds`` from now."""
        self.fail_from = time.monotonic() + seconds


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        with behaviour.lock:
            behaviour.requests += 1
        if behaviour.latency_ms:
            time.sleep(behaviour.latency_ms / 1000)
        path = self.path.partition("?")[0]
        if path == "/health":
            code = behaviour.health_status
        elif behaviour.fail_from is not None and time.monotonic() >= behaviour.fail_from:
            code = 500
        else:
            code = 200
        body = b'{"ok": %s}' % (b"true" if code < 500 else b"false")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour


@dataclass(frozen=True)
class Loopback:
    """A running service: its base URL and its behaviour."""

    url: str
    port: int
    behaviour: Behaviour


@contextmanager
def loopback_service(behaviour: Behaviour | None = None) -> Iterator[Loopback]:
    """Serve on a free loopback port until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour or Behaviour()
    thread = threading.Thread(target=server.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    port = int(server.server_address[1])
    try:
        yield Loopback(f"http://127.0.0.1:{port}", port, server.behaviour)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
