"""A bounded keep-alive load generator: reads and acknowledged writes through one listener.

Each worker holds one HTTP/1.1 keep-alive connection, as real clients do, and reconnects only
after a failure. Every request is recorded (start, end, status, which colour answered), so a
run tells how many requests failed during a switch, when answers came only from the release,
and which writes were acknowledged. A run always stops by itself: at ``duration_s`` or after
``max_requests``, whichever comes first.

The write contract (the demo service's): ``POST write_path`` with JSON ``{"key": ...}``
answers 201 (or 200 for a key already stored); ``GET write_path?after=ID&limit=N`` lists
``{"records": [{"id", "key"}]}`` in id order.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType

from handoff.bluegreen import probe
from handoff.bluegreen.probe import SERVER_HEADER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadSpec:
    """What to send, where, and the bounds of a run.

    ``rate_per_s`` is the total target rate (None: as fast as the connections go);
    ``write_every`` makes every n-th request of a worker a write (0: reads only).
    """

    host: str
    port: int
    connections: int = 16
    duration_s: float = 10.0
    max_requests: int = 200_000
    rate_per_s: float | None = None
    write_every: int = 4
    read_paths: tuple[str, ...] = ("/api/status", "/version", "/health")
    write_path: str = "/api/records"
    timeout_s: float = 10.0
    # (domain, context trusting the CA) for a TLS listener (`handoff.bluegreen.tls`).
    tls: tuple[str, ssl.SSLContext] | None = None


@dataclass(frozen=True)
class Sample:
    """One request: monotonic start/end, outcome, and the colour that answered."""

    started: float
    finished: float
    ok: bool
    status: int
    server: str | None
    write_key: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LoadReport:
    """Everything a run measured."""

    spec: LoadSpec
    samples: tuple[Sample, ...]
    started: float
    finished: float
    by_server: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """Return the number of requests sent."""
        return len(self.samples)

    @property
    def failures(self) -> tuple[Sample, ...]:
        """Return the failed requests (no answer, 5xx, or an unexpected status)."""
        return tuple(s for s in self.samples if not s.ok)

    @property
    def acknowledged_writes(self) -> tuple[str, ...]:
        """Return the keys of writes the service acknowledged."""
        return tuple(s.write_key for s in self.samples if s.ok and s.write_key)

    @property
    def rate(self) -> float:
        """Return the achieved request rate per second."""
        return self.requests / max(self.finished - self.started, 1e-9)

    def between(self, start: float, end: float) -> tuple[Sample, ...]:
        """Return the samples that started within [start, end)."""
        return tuple(s for s in self.samples if start <= s.started < end)

    def all_from_after(self, colour: str, since: float) -> float | None:
        """Return seconds from ``since`` until every later request was answered by ``colour``.

        That is the switch time as users see it: from the switch request to 100 % of answers
        from the release. None when some answer from another colour came last.
        """
        others = [s.started for s in self.samples if s.started >= since and s.server != colour]
        if not others:
            return 0.0
        last_other = max(others)
        if not any(s.started > last_other and s.server == colour for s in self.samples):
            return None
        return last_other - since

    def slowest_between(self, start: float, end: float) -> float:
        """Return the longest duration (s) of the requests that started within [start, end)."""
        return max((s.finished - s.started for s in self.between(start, end)), default=0.0)

    def steady_quantile(self, start: float, end: float, q: float = 0.999) -> float:
        """Return the q-quantile duration (s, nearest rank) of requests outside [start, end).

        The steady reference a switch's slowest request is judged against, measured in the
        same run: every request that did not start while the switch ran.
        """
        durations = sorted(
            s.finished - s.started for s in self.samples if not start <= s.started < end
        )
        if not durations:
            return 0.0
        rank = min(len(durations) - 1, max(0, int(q * len(durations) + 0.5) - 1))
        return durations[rank]

    def describe_failures(self, most: int = 5) -> str:
        """Return a short description of the first failures, for assertion messages."""
        counts = Counter(f"{s.status} {s.error or ''}".strip() for s in self.failures)
        return ", ".join(f"{n}x {what}" for what, n in counts.most_common(most)) or "none"


class LoadGenerator:
    """Run a LoadSpec in background threads; use as a context manager around a switch."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self.report: LoadReport | None = None

    def __enter__(self) -> LoadGenerator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Open the connections and start sending."""
        spec = self.spec
        log.info(
            "load: %s keep-alive connections to %s:%s, rate %s, at most %ss / %s requests",
            spec.connections,
            spec.host,
            spec.port,
            f"{spec.rate_per_s:g}/s" if spec.rate_per_s else "unthrottled",
            spec.duration_s,
            spec.max_requests,
        )
        self._started = time.monotonic()
        for n in range(spec.connections):
            thread = threading.Thread(target=self._worker, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> LoadReport:
        """Stop sending, wait for in-flight requests, and return the report."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.spec.timeout_s + 5)
        finished = time.monotonic()
        with self._lock:
            samples = tuple(sorted(self._samples, key=lambda s: s.started))
        by_server = Counter(s.server or "none" for s in samples)
        self.report = LoadReport(self.spec, samples, self._started, finished, dict(by_server))
        log.info(
            "load: %s requests (%.0f/s), %s failed, %s writes acknowledged, answered by %s",
            self.report.requests,
            self.report.rate,
            len(self.report.failures),
            len(self.report.acknowledged_writes),
            dict(by_server),
        )
        return self.report

    def wait(self) -> LoadReport:
        """Wait for the run to reach its own bounds, then return the report."""
        for thread in self._threads:
            thread.join()
        return self.stop()

    def _budget_left(self) -> bool:
        with self._lock:
            return len(self._samples) < self.spec.max_requests

    def _worker(self, n: int) -> None:
        spec = self.spec
        end = self._started + spec.duration_s
        interval = spec.connections / spec.rate_per_s if spec.rate_per_s else 0.0
        next_at = self._started + interval * n / max(spec.connections, 1)
        conn: http.client.HTTPConnection | None = None
        i = 0
        while not self._stop.is_set() and time.monotonic() < end and self._budget_left():
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at += interval
            if conn is None:
                conn = probe.connection(spec.host, spec.port, spec.timeout_s, spec.tls)
            i += 1
            write = spec.write_every > 0 and i % spec.write_every == 0
            sample = self._send(conn, write, spec.read_paths[i % len(spec.read_paths)])
            with self._lock:
                self._samples.append(sample)
            if not sample.ok and sample.status == 0:
                conn.close()
                conn = None  # a broken connection is replaced, as a client would
        if conn is not None:
            conn.close()

    def _send(self, conn: http.client.HTTPConnection, write: bool, path: str) -> Sample:
        started = time.monotonic()
        key = uuid.uuid4().hex if write else None
        try:
            if key is not None:
                body = json.dumps({"key": key, "note": "loadgen"}).encode()
                headers = {"Content-Type": "application/json"}
                conn.request("POST", self.spec.write_path, body=body, headers=headers)
            else:
                conn.request("GET", path)
            resp = conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            return Sample(started, time.monotonic(), False, 0, None, key, type(exc).__name__)
        server = resp.getheader(SERVER_HEADER)
        if key is not None:
            ok = resp.status in (200, 201) and _acknowledges(payload, key)
        else:
            ok = resp.status == 200
        return Sample(started, time.monotonic(), ok, resp.status, server, key)


def _acknowledges(payload: bytes, key: str) -> bool:
    try:
        return bool(json.loads(payload).get("key") == key)
    except (ValueError, AttributeError):
        return False


def stored_keys(
    host: str,
    port: int,
    path: str = "/api/records",
    page: int = 5000,
    tls: tuple[str, ssl.SSLContext] | None = None,
) -> set[str]:
    """Return every record key the service reports as stored, paging through the listing."""
    return {key for _, key in listed_records(host, port, path, page, tls)}


def listed_records(
    host: str,
    port: int,
    path: str = "/api/records",
    page: int = 5000,
    tls: tuple[str, ssl.SSLContext] | None = None,
) -> list[tuple[int, str]]:
    """Return every stored record as (id, key), in id order, paging through the listing."""
    found: list[tuple[int, str]] = []
    after = 0
    conn = probe.connection(host, port, 30, tls)
    try:
        while True:
            conn.request("GET", f"{path}?after={after}&limit={page}")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"listing {path} answered HTTP {resp.status}: {body[:200]!r}")
            records = json.loads(body)["records"]
            if not records:
                return found
            found.extend((int(r["id"]), str(r["key"])) for r in records)
            after = int(records[-1]["id"])
    finally:
        conn.close()
