"""HTTP probes through the router's listeners: who answered, with what, how fast."""

from __future__ import annotations

import http.client
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from handoff.bluegreen.config import Colour

log = logging.getLogger(__name__)

#: Response header the router adds naming the backend server (= colour) that answered.
SERVER_HEADER = "X-Handoff-Server"


@dataclass(frozen=True)
class Answer:
    """One probe's outcome; ``status`` is 0 when no HTTP answer came back."""

    status: int
    server: str | None
    seconds: float
    error: str | None = None

    def healthy_from(self, colour: Colour) -> bool:
        """Tell whether this is a 2xx answer produced by the given colour."""
        return 200 <= self.status < 300 and self.server == colour.value


class TlsConnection(http.client.HTTPSConnection):
    """HTTPS to an address, verifying the certificate for a domain (SNI) against a context.

    The router is reached at its address (127.0.0.1) while the certificate names the
    service's domain: the context checks that name, never the address.
    """

    def __init__(
        self, host: str, port: int, domain: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.domain = domain
        self.tls_context = context

    def connect(self) -> None:
        """Open TCP, then TLS for the domain (verified: the context requires it)."""
        http.client.HTTPConnection.connect(self)
        self.sock = self.tls_context.wrap_socket(self.sock, server_hostname=self.domain)


def trusting(ca_file: str) -> ssl.SSLContext:
    """Return a client context trusting only ``ca_file``: certificate and name required."""
    context = ssl.create_default_context(cafile=ca_file)  # no system store with a cafile
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    return context


def connection(
    host: str, port: int, timeout: float, tls: tuple[str, ssl.SSLContext] | None = None
) -> http.client.HTTPConnection:
    """Return a plain connection, or a verified TLS one when ``tls`` = (domain, context)."""
    if tls is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return TlsConnection(host, port, tls[0], tls[1], timeout)


def get(
    host: str,
    port: int,
    path: str,
    timeout: float,
    tls: tuple[str, ssl.SSLContext] | None = None,
) -> Answer:
    """Send one GET on a fresh connection and describe the answer."""
    started = time.monotonic()
    conn = connection(host, port, timeout, tls)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return Answer(resp.status, resp.getheader(SERVER_HEADER), time.monotonic() - started)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, None, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


@dataclass(frozen=True)
class StreakResult:
    """How a run of probes ended."""

    reached: bool
    requests: int
    healthy: int
    seconds: float
    last: Answer | None


def until_streak(
    probe: Callable[[], Answer],
    accept: Callable[[Answer], bool],
    threshold: int,
    deadline_s: float,
    interval_s: float,
    give_up: Callable[[], str | None] = lambda: None,
) -> StreakResult:
    """Probe until ``threshold`` consecutive answers are accepted, or the deadline passes.

    ``give_up`` is asked between probes and returns a reason to stop early (e.g. the
    container exited), so a dead release fails fast instead of waiting out its deadline.
    """
    started = time.monotonic()
    streak = requests = healthy = 0
    last: Answer | None = None
    while True:
        last = probe()
        requests += 1
        if accept(last):
            streak += 1
            healthy += 1
            if streak >= threshold:
                return StreakResult(True, requests, healthy, time.monotonic() - started, last)
        else:
            if streak:
                log.info("streak broken after %s good answers: %s", streak, _describe(last))
            streak = 0
        elapsed = time.monotonic() - started
        if elapsed >= deadline_s or give_up() is not None:
            return StreakResult(False, requests, healthy, elapsed, last)
        time.sleep(interval_s)


def _describe(answer: Answer) -> str:
    if answer.error:
        return answer.error
    return f"HTTP {answer.status} from {answer.server or 'no server'}"


def describe(answer: Answer | None) -> str:
    """Return a short human description of an answer for logs and errors."""
    return "no probe sent" if answer is None else _describe(answer)
