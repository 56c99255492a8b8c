"""Demo service for the blue-green environment: a small HTTP service on one asyncio loop.

Endpoints: /health, /version, / (dashboard page), /api/status (JSON), /api/optimize (the
seed's "AI optimization" feature), /api/account (needs a bearer token), /metrics (Prometheus
text format, from prometheus-client: latency histogram by path and code, feature uses,
authentication failures, refused requests, the process' CPU and memory), POST /api/records
(acknowledged write) and GET /api/records (what is stored).
Records live in SQLite on a volume shared by both colours, so a write acknowledged by blue is
still there when green serves; with DEMO_DATABASE_URL set they live in PostgreSQL instead,
in the schema the release's migrations (migrate.py) made. Behaviour comes from the environment:

  DEMO_MODE         healthy | never_ready | slow | erroring       (default healthy)
  DEMO_LATENCY_MS   added latency per request in slow mode        (default 200)
  DEMO_ERROR_RATE   percent of 5xx answers in erroring mode       (default 50)
  DEMO_ERROR_AFTER  seconds after start before errors begin       (default 0)
  DEMO_DB           path of the SQLite store                      (default /data/records.db)
  DEMO_DATABASE_URL a PostgreSQL URL: the store is PostgreSQL, not SQLite (default unset)
  DEMO_RECORD_COLUMNS  the columns this release writes beside key and body, from its schema
                    (colour, release, origin, written_colour; set by the image's build)
  DEMO_PORT         listening port                                (default 8000)
  DEMO_FAULTS       comma-separated faults a validation gate must catch (default none):
                    img_without_alt (accessibility), missing_text (smoke journey),
                    leak_version (security: Server header names versions),
                    no_nosniff (security: X-Content-Type-Options missing),
                    corrupt_store (data integrity: a broken migration stores a record
                    whose body names another key, at start or once the writes below came
                    in; integrity_check.py finds it), flaky_optimize (real users only: the
                    optimiser, which no probe requests, answers 500 on DEMO_FLAKY_PERCENT %),
                    stale_asset (static assets: /static/app.css changes without a release)
  DEMO_FAULTS_AFTER_WRITES  the faults start once this process acknowledged this many new
                    writes (default 0: from the start); a release that breaks only under
                    live traffic, so the checks on live after the switch must catch it
  DEMO_FLAKY_PERCENT  percent of /api/optimize answers that fail under flaky_optimize (5)
  DEMO_DEBUG_PORT   also serve on this port (the debug-port image variant exposes it)
  DEMO_API_TOKEN    the bearer token GET /api/account accepts (unset: none is accepted);
                    failures are counted in demo_auth_failures_total
  HANDOFF_RELEASE, HANDOFF_COLOUR   set by the blue-green engine, shown by /version
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import os
import queue
import random
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from http_loop import Request, Response, Server  # beside this file, in the image too
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

MODE = os.environ.get("DEMO_MODE", "healthy")
LATENCY = float(os.environ.get("DEMO_LATENCY_MS", "200")) / 1000.0
ERROR_RATE = float(os.environ.get("DEMO_ERROR_RATE", "50")) / 100.0
ERROR_AFTER = float(os.environ.get("DEMO_ERROR_AFTER", "0"))
DB_PATH = os.environ.get("DEMO_DB", "/data/records.db")
PORT = int(os.environ.get("DEMO_PORT", "8000"))
RELEASE = os.environ.get("HANDOFF_RELEASE") or os.environ.get("DEMO_RELEASE", "dev")
COLOUR = os.environ.get("HANDOFF_COLOUR", "none")
STARTED = time.monotonic()
MAX_BODY = 64 * 1024
FAULTS = frozenset(f.strip() for f in os.environ.get("DEMO_FAULTS", "").split(",") if f.strip())
FAULTS_AFTER_WRITES = int(os.environ.get("DEMO_FAULTS_AFTER_WRITES", "0") or 0)
FLAKY_SHARE = float(os.environ.get("DEMO_FLAKY_PERCENT", "5") or 5) / 100.0
DEBUG_PORT = int(os.environ.get("DEMO_DEBUG_PORT", "0") or 0)
API_TOKEN = os.environ.get("DEMO_API_TOKEN", "")
T = TypeVar("T")


class _Write:
    """One record waiting for the commit that makes it durable."""

    def __init__(self, key: str, body: str) -> None:
        self.key, self.body = key, body
        self.result: tuple[int, bool] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class GroupCommit:
    """Writers queue their records; one leader at a time commits every record waiting so far.

    A writer is answered only after the commit that holds its record returned, so an
    acknowledged write is durable. One transaction (one disk sync) serves every writer that
    arrived while the previous one was committing: the commits' rate no longer bounds the
    writes' rate. Whoever takes the lock next leads the next group, so a writer waits at
    most for the group in progress and its own. (Handing the lead to the oldest waiting
    writer and waking each answered writer by its own event was measured and not kept:
    reads near a router step got slower, docs/decisions/switch-stall.md.)
    """

    def __init__(self, commit_group: Callable[[list[_Write]], None]) -> None:
        self.commit_group = commit_group  # sets each write's result, or raises for all
        self.write_lock = threading.Lock()  # held by the one writer committing a group
        self.pending_lock = threading.Lock()
        self.pending: list[_Write] = []
        self.commits = 0

    def add(self, key: str, body: str) -> tuple[int, bool]:
        """Store one record; a repeated key returns the stored id (idempotent writes)."""
        write = _Write(key, body)
        with self.pending_lock:
            self.pending.append(write)
        with self.write_lock:
            if not write.done.is_set():  # not committed by the previous group: lead this one
                with self.pending_lock:
                    group, self.pending = self.pending, []
                self._commit(group)
        if write.error is not None:
            raise write.error
        assert write.result is not None
        return write.result

    def _commit(self, group: list[_Write]) -> None:
        try:
            self.commit_group(group)
            self.commits += 1
        except BaseException as exc:  # nothing of the group is durable: none acknowledged
            for w in group:
                w.result, w.error = None, exc
        finally:
            for w in group:
                w.done.set()


class Store:
    """Acknowledged records in SQLite; a write returns only after it is durable.

    Connections come from a pool rather than one per thread: the store's calls run on the
    service's store threads (STORE_WRITES, STORE_READS), and a connection per thread would
    open as many SQLite connections as there are threads. Writes are group-committed
    (GroupCommit). Before, each writer fought for SQLite's write lock through its busy
    handler, which retries by sleeping in no order, and every write paid its own fsync:
    under load one write could wait for seconds.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self.group = GroupCommit(self._commit_group)
        with self.borrowed() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS records ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE NOT NULL,"
                " body TEXT NOT NULL, colour TEXT NOT NULL, release TEXT NOT NULL,"
                " created REAL NOT NULL)"
            )

    @property
    def commits(self) -> int:
        return self.group.commits

    def connect(self) -> sqlite3.Connection:
        # Both colours write the same file: WAL lets readers and one writer proceed,
        # synchronous=FULL makes a commit durable before it is acknowledged.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @contextlib.contextmanager
    def borrowed(self) -> Iterator[sqlite3.Connection]:
        """Lend a pooled connection to one thread at a time."""
        try:
            db = self.pool.get_nowait()
        except queue.Empty:
            db = self.connect()
        try:
            yield db
        finally:
            self.pool.put(db)

    def add(self, key: str, body: str) -> tuple[int, bool]:
        """Store one record; a repeated key returns the stored id (idempotent writes)."""
        return self.group.add(key, body)

    def _commit_group(self, group: list[_Write]) -> None:
        with self.borrowed() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                for w in group:
                    cur = db.execute(
                        "INSERT OR IGNORE INTO records (key, body, colour, release, created)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (w.key, w.body, COLOUR, RELEASE, time.time()),
                    )
                    created = cur.rowcount == 1
                    row = db.execute("SELECT id FROM records WHERE key = ?", (w.key,)).fetchone()
                    w.result = (int(row[0]), created)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def keys(self, after: int, limit: int) -> list[tuple[int, str]]:
        with self.borrowed() as db:
            rows = db.execute(
                "SELECT id, key FROM records WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            ).fetchall()
        return [(int(i), str(k)) for i, k in rows]

    def corrupt(self) -> None:
        """Store what a broken migration would: a record whose body names another key."""
        self.add(f"migrated-{RELEASE}-{COLOUR}", json.dumps({"key": None, "note": "migrated"}))

    def count(self) -> int:
        with self.borrowed() as db:
            return int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0])


#: What each column a release may write holds; the names are fixed here, never from input.
_COLUMN_VALUES: dict[str, Callable[[], str]] = {
    "colour": lambda: COLOUR,
    "written_colour": lambda: COLOUR,
    "release": lambda: RELEASE,
    "origin": lambda: f"{RELEASE}/{COLOUR}",
}


class PgStore:
    """Acknowledged records in PostgreSQL, shared by both colours; migrations own the schema.

    Writes are group-committed (GroupCommit): one multi-row INSERT for every write waiting,
    sent on the leader's own connection in autocommit, so the group costs one round trip and
    each write is answered only after the statement's commit returned (synchronous_commit
    stays on: the commit is on disk). A transaction per write through the 16 pooled
    connections managed about 250 writes/s here, and writers queued on the pool for seconds
    at 64 and 256 client connections. The writer's connection is outside the pool, so a
    write never waits behind readers for a slot.

    The columns written beside key and body are the release's (DEMO_RECORD_COLUMNS): an
    expand step must keep the old release's columns writable, which is what the old colour's
    smoke journey proves again.
    """

    def __init__(self, url: str, columns: str) -> None:
        import psycopg2.pool  # Debian's python3-psycopg2, in the image only

        self.columns = tuple(c.strip() for c in columns.split(",") if c.strip())
        unknown = [c for c in self.columns if c not in _COLUMN_VALUES]
        if unknown:
            raise SystemExit(f"DEMO_RECORD_COLUMNS: unknown column(s) {', '.join(unknown)}")
        # More store threads than pooled connections: the semaphore makes extra threads wait
        # for a connection instead of failing on an exhausted pool.
        self.slots = threading.BoundedSemaphore(16)
        self.pool = psycopg2.pool.ThreadedConnectionPool(
            1, 16, url, connect_timeout=5, application_name=f"demo-{COLOUR}"
        )
        self.url = url
        self.writer: Any = None  # the group leader's connection; only used under its lock
        self.group = GroupCommit(self._commit_group)
        # Opened now, not by the first write: a colour made live takes its first writes in
        # the second after the router step, when it least has time to connect.
        self._writer()

    @property
    def commits(self) -> int:
        return self.group.commits

    def _writer(self) -> Any:
        """The leader's autocommit connection, opened again after a failure closed it."""
        import psycopg2

        if self.writer is None or self.writer.closed:
            self.writer = psycopg2.connect(
                self.url, connect_timeout=5, application_name=f"demo-{COLOUR}-writer"
            )
            self.writer.autocommit = True
        return self.writer

    @contextlib.contextmanager
    def borrowed(self) -> Iterator[Any]:
        """Lend a pooled connection; one left broken by a failure is closed, not reused."""
        with self.slots:
            db = self.pool.getconn()
            broken = False
            try:
                yield db
                db.commit()
            except BaseException:
                broken = bool(db.closed)
                if not broken:
                    db.rollback()
                raise
            finally:
                self.pool.putconn(db, close=broken)

    def add(self, key: str, body: str) -> tuple[int, bool]:
        """Store one record; a repeated key returns the stored id (idempotent writes)."""
        return self.group.add(key, body)

    def _commit_group(self, group: list[_Write]) -> None:
        from psycopg2.extras import execute_values

        names = ", ".join(("key", "body", "created", *self.columns))
        now = time.time()
        extra = tuple(_COLUMN_VALUES[c]() for c in self.columns)
        rows = [(w.key, w.body, now, *extra) for w in group]
        with self._writer().cursor() as cur:
            inserted = execute_values(
                cur,
                f"INSERT INTO records ({names}) VALUES %s"
                " ON CONFLICT (key) DO NOTHING RETURNING id, key",
                rows,
                page_size=len(rows),
                fetch=True,
            )
            fresh = {str(k): int(i) for i, k in inserted}
            repeated = [w.key for w in group if w.key not in fresh]
            stored: dict[str, int] = {}
            if repeated:
                cur.execute("SELECT id, key FROM records WHERE key = ANY(%s)", (repeated,))
                stored = {str(k): int(i) for i, k in cur.fetchall()}
        # One statement in autocommit: it returned after its commit. The first
        # write of a key new to the table created it; a repeat, here or earlier, did not.
        for w in group:
            if w.key in fresh:
                w.result = (fresh.pop(w.key), True)
                stored[w.key] = w.result[0]
            else:
                w.result = (stored[w.key], False)

    def keys(self, after: int, limit: int) -> list[tuple[int, str]]:
        with self.borrowed() as db, db.cursor() as cur:
            cur.execute(
                "SELECT id, key FROM records WHERE id > %s ORDER BY id LIMIT %s", (after, limit)
            )
            return [(int(i), str(k)) for i, k in cur.fetchall()]

    def corrupt(self) -> None:
        """Store what a broken migration would: a record whose body names another key."""
        self.add(f"migrated-{RELEASE}-{COLOUR}", json.dumps({"key": None, "note": "migrated"}))

    def count(self) -> int:
        with self.borrowed() as db, db.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM records")
            return int(cur.fetchone()[0])


KNOWN_PATHS = {
    "/",
    "/health",
    "/version",
    "/metrics",
    "/api/status",
    "/api/records",
    "/api/optimize",
    "/api/account",
}
#: The user-facing features counted in demo_feature_uses_total (the contract's user analytics).
FEATURES = {
    "/": "dashboard",
    "/api/status": "status",
    "/api/optimize": "optimize",
    "/api/records": "records",
    "/api/account": "account",
}

#: Why a request was refused or failed authentication (the values of those counters' label).
REFUSALS = ("bad_body", "body_size", "method", "not_found")
AUTH_FAILURES = ("missing", "invalid")
#: Latency buckets (seconds): the demo answers in milliseconds; the slow mode adds 200 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's Prometheus metrics (prometheus-client) in a registry of its own.

    Every label has a bounded set of values, so no client can grow the series without end:
    paths outside KNOWN_PATHS are counted as "other", features, refusal and authentication
    reasons are fixed names, codes are the few the service answers.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writes = 0  # acknowledged new records; the injected faults count on it
        self.registry = CollectorRegistry(auto_describe=True)
        # CPU, memory, open files of this process, and the interpreter: each colour's resources.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        r = self.registry

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, list(labels), registry=r)

        self.requests = counter("demo_http_requests", "HTTP requests answered.", "path", "code")
        self.latency = Histogram(
            "demo_http_request_duration_seconds",
            "Time spent answering, by path and status code.",
            ["path", "code"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.features = counter("demo_feature_uses", "Uses of user-facing features.", "feature")
        self.auth_failures = counter(
            "demo_auth_failures", "Requests whose credentials were missing or wrong.", "reason"
        )
        self.refused = counter(
            "demo_refused_requests", "Requests malformed, not allowed, for no such path.", "reason"
        )
        self.records = counter("demo_records_written", "Records acknowledged by this process.")
        # Every series exists from the start at 0: a query over "no failures yet" finds a
        # zero, not an empty result that reads as "not measured".
        for feature in FEATURES.values():
            self.features.labels(feature)
        for reason in AUTH_FAILURES:
            self.auth_failures.labels(reason)
        for reason in REFUSALS:
            self.refused.labels(reason)
        # demo_info is written by hand: prometheus-client sorts label names,
        # and readers of this service match the line as it always was.
        self.info = "\n".join(
            [
                "# HELP demo_info Release and colour of this process.",
                "# TYPE demo_info gauge",
                f"demo_info{{release={_quoted(RELEASE)},colour={_quoted(COLOUR)},"
                f"mode={_quoted(MODE)}}} 1",
                "",
            ]
        ).encode()

    def observe(self, path: str, code: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(path, str(code)).inc()
        self.latency.labels(path, str(code)).observe(seconds)

    def wrote(self) -> None:
        """Count one newly acknowledged record."""
        with self.lock:
            self.writes += 1
        self.records.inc()

    def render(self) -> bytes:
        """Return every metric in Prometheus' text format."""
        return generate_latest(self.registry) + self.info


def _quoted(value: str) -> str:
    """Return a label value quoted as the Prometheus text format wants it."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{escaped}"'


STORE: Store | PgStore
METRICS = Metrics()


def fault(name: str) -> bool:
    """Tell whether an injected fault is active now."""
    return name in FAULTS and METRICS.writes >= FAULTS_AFTER_WRITES


DASHBOARD = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo service {title}</title>
<style>body{{font-family:sans-serif;margin:2rem;color:#111;background:#fff}}
th,td{{text-align:left;padding:.25rem 1rem}}</style></head>
<body><main>
<h1>Demo service</h1>
<table><caption>Running release</caption>
<tr><th scope="row">Release</th><td>{release}</td></tr>
<tr><th scope="row">Colour</th><td>{colour}</td></tr>
<tr><th scope="row">Mode</th><td>{mode}</td></tr>
<tr><th scope="row">Records stored</th><td>{count}</td></tr>
</table>
<p><a href="/api/status">Status as JSON</a> · <a href="/metrics">Metrics</a></p>{extra}
</main></body></html>
"""


# The one static asset, the same bytes in every release (a sidecar pins its sha256), served
# cacheable: what the static-assets check asks for through the preview.
STYLESHEET = b"body{font-family:sans-serif;margin:2rem;color:#111;background:#fff}\n"


#: The store's calls block (SQLite, psycopg2), so they run here, off the event loop. Writes
#: have threads of their own: a write waits for its group's commit, and reads (the
#: dashboard's count, the records list) must not queue behind it.
STORE_WRITES = ThreadPoolExecutor(32, thread_name_prefix="store-write")
STORE_READS = ThreadPoolExecutor(8, thread_name_prefix="store-read")


async def in_thread(pool: ThreadPoolExecutor, call: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(pool, call)


def server_name() -> str:
    if fault("leak_version"):
        return f"handoff-demo/{RELEASE} Python/{sys.version.split()[0]}"
    return "handoff-demo"


def answer_with(
    code: int, body: bytes, ctype: str = "application/json", cache: str = "no-store"
) -> Response:
    headers = [
        ("Server", server_name()),
        ("Content-Type", ctype),
        ("X-Release", RELEASE),
        ("Cache-Control", cache),
    ]
    if not fault("no_nosniff"):
        headers.append(("X-Content-Type-Options", "nosniff"))
    return Response(code, body, tuple(headers))


def answer_json(code: int, value: object) -> Response:
    return answer_with(code, json.dumps(value).encode())


async def injected_failure() -> bool:
    if MODE == "slow":
        await asyncio.sleep(LATENCY)
    if MODE == "erroring" and time.monotonic() - STARTED >= ERROR_AFTER:
        return random.random() < ERROR_RATE
    return False


def params_of(query: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in query.split("&") if "=" in p)


async def handle_one(request: Request) -> Response:
    path, method = request.path, request.method
    if path == "/health":
        healthy = MODE != "never_ready"
        body = {"status": "ok" if healthy else "starting", "release": RELEASE}
        return answer_json(200 if healthy else 503, body)
    if await injected_failure():
        return answer_json(500, {"error": "injected failure (DEMO_MODE=erroring)"})
    if method == "POST" and path == "/api/records":
        return await write_record(request)
    if method != "GET":
        METRICS.refused.labels("method").inc()
        return answer_json(405, {"error": f"{method} not allowed on {path}"})
    page = PAGES.get(path)
    if page is None:
        METRICS.refused.labels("not_found").inc()
        return answer_json(404, {"error": f"no such path: {path}"})
    return await page(request)


async def version(request: Request) -> Response:
    return answer_json(200, {"release": RELEASE, "colour": COLOUR})


async def status(request: Request) -> Response:
    uptime = round(time.monotonic() - STARTED, 3)
    return answer_json(200, {"release": RELEASE, "colour": COLOUR, "uptime_s": uptime})


async def optimize(request: Request) -> Response:
    """The seed contract's "AI optimization" feature: a small computed answer."""
    if fault("flaky_optimize") and random.random() < FLAKY_SHARE:
        return answer_json(500, {"error": "injected failure (flaky_optimize)"})
    budget = max(1, min(int(params_of(request.query).get("budget", "100") or 100), 10_000))
    # A deterministic toy "optimisation": split the budget across three channels.
    weights = (0.5, 0.3, 0.2)
    plan = [round(budget * w, 2) for w in weights]
    return answer_json(200, {"release": RELEASE, "budget": budget, "allocation": plan})


async def account(request: Request) -> Response:
    """Answer the caller's account page, for a bearer token equal to DEMO_API_TOKEN."""
    given = request.headers.get("authorization", "")
    if not given:
        METRICS.auth_failures.labels("missing").inc()
        return answer_json(401, {"error": "credentials required"})
    scheme, _, token = given.partition(" ")
    # Without a configured token no credentials are valid; compare in constant time.
    valid = bool(API_TOKEN) and scheme.lower() == "bearer"
    if not (valid and hmac.compare_digest(token.strip().encode(), API_TOKEN.encode())):
        METRICS.auth_failures.labels("invalid").inc()
        return answer_json(401, {"error": "invalid credentials"})
    return answer_json(200, {"account": "demo", "release": RELEASE})


async def list_records(request: Request) -> Response:
    params = params_of(request.query)
    after, limit = int(params.get("after", "0")), int(params.get("limit", "10000"))
    rows = await in_thread(STORE_READS, lambda: STORE.keys(after, limit))
    return answer_json(200, {"records": [{"id": i, "key": k} for i, k in rows]})


async def dashboard(request: Request) -> Response:
    count = await in_thread(STORE_READS, STORE.count)
    page = DASHBOARD.format(
        # The smoke journey expects the word "dashboard"; missing_text drops it.
        title="overview" if fault("missing_text") else "dashboard",
        # An image without a text alternative: axe's image-alt rule (WCAG 1.1.1, level A).
        extra='<img src="/favicon.png" width="16" height="16">' if fault("img_without_alt") else "",
        release=html.escape(RELEASE),
        colour=html.escape(COLOUR),
        mode=html.escape(MODE),
        count=count,
    )
    return answer_with(200, page.encode(), "text/html; charset=utf-8")


async def metrics(request: Request) -> Response:
    return answer_with(200, METRICS.render(), CONTENT_TYPE_LATEST)


async def stylesheet(request: Request) -> Response:
    body = STYLESHEET.replace(b"#111", b"#222") if fault("stale_asset") else STYLESHEET
    return answer_with(200, body, "text/css", "public, max-age=3600")


async def write_record(request: Request) -> Response:
    if request.content_length <= 0 or request.content_length > MAX_BODY:
        METRICS.refused.labels("body_size").inc()
        return answer_json(400, {"error": f"body must be 1..{MAX_BODY} bytes"})
    raw = request.body
    try:
        doc = json.loads(raw)
        key = str(doc["key"])
    except (ValueError, KeyError, TypeError):
        METRICS.refused.labels("bad_body").inc()
        return answer_json(400, {"error": 'body must be JSON with a "key"'})
    body = raw.decode("utf-8", "replace")
    record_id, created = await in_thread(STORE_WRITES, lambda: STORE.add(key, body))
    if created:
        METRICS.wrote()
    if fault("corrupt_store"):  # a migration run lazily, once enough writes came in
        await in_thread(STORE_WRITES, STORE.corrupt)
    return answer_json(201 if created else 200, {"id": record_id, "key": key, "colour": COLOUR})


PAGES: dict[str, Callable[[Request], Awaitable[Response]]] = {
    "/version": version,
    "/api/status": status,
    "/api/records": list_records,
    "/api/optimize": optimize,
    "/api/account": account,
    "/metrics": metrics,
    "/static/app.css": stylesheet,
    "/": dashboard,
}


async def answer(request: Request) -> Response:
    """Answer one request and count it (latency by path and code, feature uses)."""
    started = time.monotonic()
    try:
        response = await handle_one(request)
    except Exception as exc:  # one bad request must not take the process down
        response = answer_json(500, {"error": f"{type(exc).__name__}: {exc}"})
    path = request.path
    code = response.code
    METRICS.observe(path if path in KNOWN_PATHS else "other", code, time.monotonic() - started)
    if code < 300 and path in FEATURES:
        METRICS.features.labels(FEATURES[path]).inc()
    return response


async def serve() -> None:
    """Serve until SIGTERM, then let the requests in progress finish."""
    server = Server(answer, MAX_BODY)
    await server.listen(PORT)
    if DEBUG_PORT:
        # The debug-port variant: a second listener, the kind a debug build leaves open.
        await server.listen(DEBUG_PORT)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.stop)
    faults = ",".join(sorted(FAULTS)) or "none"
    store = "postgresql" if isinstance(STORE, PgStore) else "sqlite"
    print(
        f"demo: release {RELEASE} colour {COLOUR} mode {MODE} faults {faults} store {store}"
        f" on :{PORT}",
        flush=True,
    )
    await server.stopped()


def main() -> None:
    global STORE
    url = os.environ.get("DEMO_DATABASE_URL", "")
    STORE = PgStore(url, os.environ.get("DEMO_RECORD_COLUMNS", "")) if url else Store(DB_PATH)
    if fault("corrupt_store"):
        STORE.corrupt()
    asyncio.run(serve())
    print("demo: stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
