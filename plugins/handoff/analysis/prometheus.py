"""An asynchronous client of Prometheus' HTTP API: instant and range queries, alerts, rules.

httpx, not aiohttp: it is already a direct dependency (the watch trigger probes with it),
its ``MockTransport`` lets unit tests answer without a socket, and one ``Timeout`` bounds
connect, read and the pool wait. Every call returns a typed result or a ``QueryError``
(unreachable, bad query, timeout, bad answer): no exception reaches the caller, because a
watch that crashes on a refused connection decides nothing.

The base URL comes from configuration (``PrometheusSettings.from_env``), never from a
contract. Answers are read up to ``max_bytes``; Prometheus is also told the timeout, so it
stops evaluating a query nobody waits for.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:19090"
DEFAULT_TIMEOUT_S = 5.0
MAX_TIMEOUT_S = 60.0
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: Prometheus refuses range queries of more than 11,000 points per series; stay under.
MAX_RANGE_POINTS = 11_000


class ErrorKind(StrEnum):
    """Why a call to Prometheus gave no result."""

    UNREACHABLE = "unreachable"
    BAD_QUERY = "bad_query"
    TIMEOUT = "timeout"
    BAD_ANSWER = "bad_answer"


@dataclass(frozen=True)
class QueryError:
    """A failed call: its kind, what Prometheus or the transport said, and the query."""

    kind: ErrorKind
    message: str
    query: str = ""


@dataclass(frozen=True)
class Sample:
    """One series' value at one instant (NaN and infinities kept as floats)."""

    labels: dict[str, str]
    value: float
    at: float


@dataclass(frozen=True)
class InstantResult:
    """An instant query's answer: every series it returned."""

    query: str
    samples: tuple[Sample, ...]

    def single(self) -> float | None:
        """Return the value of a one-series answer; None when it is empty or ambiguous."""
        return self.samples[0].value if len(self.samples) == 1 else None


@dataclass(frozen=True)
class Series:
    """One series of a range query: its labels and its (time, value) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]

    def values(self) -> list[float]:
        """Return the values alone, in time order."""
        return [value for _, value in self.points]


@dataclass(frozen=True)
class RangeResult:
    """A range query's answer."""

    query: str
    start: float
    end: float
    step_s: float
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Alert:
    """An alert Prometheus holds (pending or firing)."""

    name: str
    state: str
    labels: dict[str, str]
    annotations: dict[str, str]
    active_at: str
    value: float


@dataclass(frozen=True)
class Rule:
    """One loaded rule: its name, kind (alerting, recording), health and query."""

    name: str
    kind: str
    health: str
    query: str
    state: str = ""


@dataclass(frozen=True)
class RuleGroup:
    """One loaded rule group and the file it came from."""

    name: str
    file: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class PrometheusSettings:
    """Where Prometheus answers and how long a call may take."""

    url: str = DEFAULT_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_bytes: int = DEFAULT_MAX_BYTES
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Prometheus URL {self.url!r}: expected http(s)://host[:port]")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("Prometheus URL: no credentials, query or fragment in the URL")
        if not 0 < self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"Prometheus timeout must be in (0, {MAX_TIMEOUT_S:g}] s")

    @classmethod
    def from_env(cls) -> PrometheusSettings:
        """Return the settings of ``HANDOFF_PROMETHEUS_URL`` (else the stack's own address)."""
        default = f"http://{os.environ.get('HANDOFF_OBS_BIND', '127.0.0.1')}:" + os.environ.get(
            "HANDOFF_PROMETHEUS_PORT", "19090"
        )
        return cls(url=os.environ.get("HANDOFF_PROMETHEUS_URL", default).rstrip("/"))


class PrometheusClient:
    """Asynchronous calls to one Prometheus; use as ``async with PrometheusClient(...)``.

    Parameters: ``settings`` (URL, timeout, answer size bound); ``transport`` replaces the
    network (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self, settings: PrometheusSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            base_url=settings.url,
            timeout=httpx.Timeout(settings.timeout_s),
            transport=transport,
            headers=settings.headers,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment between a watch and Prometheus
        )

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def query(self, promql: str, at: float | None = None) -> InstantResult | QueryError:
        """Run an instant query (at ``at``, a Unix time, else now)."""
        params = {"query": promql, "timeout": f"{self.settings.timeout_s:g}s"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = await self._call("/api/v1/query", params, promql)
        if isinstance(data, QueryError):
            return data
        try:
            return InstantResult(promql, _instant_samples(data))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            return QueryError(ErrorKind.BAD_ANSWER, f"unexpected result shape: {exc}", promql)

    async def query_range(
        self, promql: str, start: float, end: float, step_s: float
    ) -> RangeResult | QueryError:
        """Run a range query from ``start`` to ``end`` (Unix times) every ``step_s``."""
        if not (end >= start and step_s > 0) or (end - start) / step_s > MAX_RANGE_POINTS:
            return QueryError(
                ErrorKind.BAD_QUERY,
                f"range {start}..{end} step {step_s}s: expected end >= start and at most "
                f"{MAX_RANGE_POINTS} points",
                promql,
            )
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step_s:g}",
            "timeout": f"{self.settings.timeout_s:g}s",
        }
        data = await self._call("/api/v1/query_range", params, promql)
        if isinstance(data, QueryError):
            return data
        try:
            if data["resultType"] != "matrix":
                raise ValueError(f"resultType {data['resultType']!r}, expected matrix")
            series = tuple(
                Series(
                    dict(item["metric"]),
                    tuple((float(t), _number(v)) for t, v in item["values"]),
                )
                for item in data["result"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            return QueryError(ErrorKind.BAD_ANSWER, f"unexpected result shape: {exc}", promql)
        return RangeResult(promql, start, end, step_s, series)

    async def alerts(self) -> tuple[Alert, ...] | QueryError:
        """Return the alerts Prometheus holds (pending and firing)."""
        data = await self._call("/api/v1/alerts", {}, "")
        if isinstance(data, QueryError):
            return data
        try:
            return tuple(
                Alert(
                    name=str(a["labels"].get("alertname", "")),
                    state=str(a["state"]),
                    labels=dict(a["labels"]),
                    annotations=dict(a.get("annotations") or {}),
                    active_at=str(a.get("activeAt", "")),
                    value=_number(a.get("value", "NaN")),
                )
                for a in data["alerts"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            return QueryError(ErrorKind.BAD_ANSWER, f"unexpected alerts shape: {exc}")

    async def rules(self) -> tuple[RuleGroup, ...] | QueryError:
        """Return the loaded rule groups."""
        data = await self._call("/api/v1/rules", {}, "")
        if isinstance(data, QueryError):
            return data
        try:
            return tuple(
                RuleGroup(
                    name=str(g["name"]),
                    file=str(g["file"]),
                    rules=tuple(
                        Rule(
                            name=str(r["name"]),
                            kind=str(r["type"]),
                            health=str(r.get("health", "")),
                            query=str(r["query"]),
                            state=str(r.get("state", "")),
                        )
                        for r in g["rules"]
                    ),
                )
                for g in data["groups"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            return QueryError(ErrorKind.BAD_ANSWER, f"unexpected rules shape: {exc}")

    async def _call(self, path: str, params: dict[str, str], promql: str) -> Any:
        """GET an API path; return its ``data`` or a QueryError, never raise."""
        try:
            async with self._client.stream("GET", path, params=params) as answer:
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > self.settings.max_bytes:
                        return QueryError(
                            ErrorKind.BAD_ANSWER,
                            f"answer larger than {self.settings.max_bytes} bytes",
                            promql,
                        )
                status = answer.status_code
        except httpx.TimeoutException:
            return QueryError(
                ErrorKind.TIMEOUT, f"no answer within {self.settings.timeout_s:g}s", promql
            )
        except httpx.HTTPError as exc:
            return QueryError(ErrorKind.UNREACHABLE, f"{type(exc).__name__}: {exc}", promql)
        return _decode(status, bytes(body), promql)


def _decode(status: int, body: bytes, promql: str) -> Any:
    """Return the ``data`` of an API answer, or the QueryError its status and body mean."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return QueryError(ErrorKind.BAD_ANSWER, f"HTTP {status}: not a JSON object", promql)
    if status == 200 and document.get("status") == "success" and "data" in document:
        return document["data"]
    error_type = str(document.get("errorType", ""))
    message = f"HTTP {status} {error_type}: {document.get('error', '')}".strip()
    if error_type in ("timeout", "canceled"):
        return QueryError(ErrorKind.TIMEOUT, message, promql)
    if error_type in ("bad_data", "execution") or status in (400, 422):
        return QueryError(ErrorKind.BAD_QUERY, message, promql)
    if status in (502, 503, 504):
        return QueryError(ErrorKind.UNREACHABLE, message, promql)
    return QueryError(ErrorKind.BAD_ANSWER, message, promql)


def _number(text: Any) -> float:
    """Return a sample value; Prometheus writes NaN and +Inf/-Inf as strings."""
    return float(text)


def _instant_samples(data: dict[str, Any]) -> tuple[Sample, ...]:
    kind = data["resultType"]
    if kind == "vector":
        return tuple(
            Sample(dict(item["metric"]), _number(item["value"][1]), float(item["value"][0]))
            for item in data["result"]
        )
    if kind == "scalar":
        at, value = data["result"]
        return (Sample({}, _number(value), float(at)),)
    raise ValueError(f"resultType {kind!r}, expected vector or scalar")
