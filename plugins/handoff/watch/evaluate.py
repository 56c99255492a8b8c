"""Watch-window statistics and the breach decision (pure Python, no Airflow import).

A watch window probes the router's live listener at an interval and feeds every answer to a
`WindowEvaluator`. The evaluator keeps the statistics the deployment report needs (samples,
errors, error rate, p50/p95 per path) and latches the first breach of a `WatchThresholds`:

- error rate: failed probes (no answer, or HTTP 5xx) over the last ``sliding_samples``
  probes (or over the whole window when it is None), judged once ``min_samples`` probes are
  in; the rate must stay below ``error_rate_limit_pct`` (the contract's "< 1 %").
- health: ``max_health_failures`` consecutive health probes without a 2xx answer.
- latency: per path, p95 of the answered probes (same sliding window) above the path's budget,
  or above its baseline plus ``latency_tolerance_pct``; judged once ``min_latency_samples``
  answers are in. Only slower counts: a faster release is no regression.

`Verdict.to_event()` / `Verdict.from_event()` give the JSON payload a trigger event carries.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class WindowEnd(enum.Enum):
    """How a watch window ended."""

    COMPLETED = "completed"
    BREACH = "breach"


class BreachKind(enum.Enum):
    """Which threshold a breach crossed."""

    ERROR_RATE = "error_rate"
    HEALTH = "health"
    LATENCY_BUDGET = "latency_budget"
    LATENCY_BASELINE = "latency_baseline"
    # The Docker engine stopped answering during the window (see `handoff.watch.outage`).
    ENGINE_OUTAGE = "engine_outage"
    # A metric analysis in Prometheus failed (see `handoff.watch.metrics`).
    METRIC_ANALYSIS = "metric_analysis"
    # A handoff's alert rule fired in Prometheus.
    ALERT = "alert"


@dataclass(frozen=True)
class Sample:
    """One probe: when, which path, the HTTP status (0 without an answer), how long it took."""

    at: datetime
    path: str
    status: int
    latency_ms: float
    error: str | None = None

    @property
    def answered(self) -> bool:
        """Tell whether an HTTP answer came back."""
        return self.error is None and self.status > 0

    @property
    def failed(self) -> bool:
        """Tell whether the probe counts as an error: no answer, or a server error."""
        return not self.answered or self.status >= 500

    def describe(self) -> str:
        """Return e.g. 'HTTP 500 on /api/status' or 'ConnectError on /health'."""
        outcome = f"HTTP {self.status}" if self.answered else (self.error or "no answer")
        return f"{outcome} on {self.path}"


@dataclass(frozen=True)
class LatencyBudget:
    """What a probed path's p95 is held to: an absolute budget and/or a measured baseline."""

    path: str
    p95_ms: float | None = None
    baseline_p95_ms: float | None = None


@dataclass(frozen=True)
class WatchThresholds:
    """The limits a window holds the live release to; see the module docstring."""

    error_rate_limit_pct: float = 1.0
    min_samples: int = 20
    sliding_samples: int | None = None
    max_health_failures: int = 3
    latency: tuple[LatencyBudget, ...] = ()
    latency_tolerance_pct: float | None = None
    min_latency_samples: int = 20

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.error_rate_limit_pct <= 100:
            problems.append(f"error_rate_limit_pct must be 0..100, got {self.error_rate_limit_pct}")
        if self.min_samples < 1 or self.min_latency_samples < 1:
            problems.append("min_samples and min_latency_samples must be at least 1")
        if self.sliding_samples is not None and self.sliding_samples < self.min_samples:
            problems.append(
                f"sliding_samples ({self.sliding_samples}) must be at least min_samples "
                f"({self.min_samples}), or the error rate would never be judged"
            )
        if self.max_health_failures < 1:
            problems.append(f"max_health_failures must be >= 1, got {self.max_health_failures}")
        if self.latency_tolerance_pct is not None and self.latency_tolerance_pct < 0:
            problems.append(f"latency_tolerance_pct must be >= 0, got {self.latency_tolerance_pct}")
        if problems:
            raise ValueError("invalid watch thresholds: " + "; ".join(problems))

    def describe(self) -> str:
        """Return the thresholds in words, for the task log."""
        scope = f"the last {self.sliding_samples}" if self.sliding_samples else "all"
        parts = [
            f"error rate < {self.error_rate_limit_pct:g}% over {scope} probes "
            f"(judged from {self.min_samples} probes on)",
            f"fewer than {self.max_health_failures} failed health probes in a row",
        ]
        for b in self.latency:
            if b.p95_ms is not None:
                parts.append(f"p95 of {b.path} <= {b.p95_ms:g} ms")
            if b.baseline_p95_ms is not None and self.latency_tolerance_pct is not None:
                parts.append(
                    f"p95 of {b.path} <= baseline {b.baseline_p95_ms:g} ms "
                    f"+{self.latency_tolerance_pct:g}%"
                )
        return "; ".join(parts)

    def budget_for(self, path: str) -> LatencyBudget | None:
        """Return the latency budget of a path, if it has one."""
        return next((b for b in self.latency if b.path == path), None)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (trigger kwargs, XCom, report)."""
        return {
            "error_rate_limit_pct": self.error_rate_limit_pct,
            "min_samples": self.min_samples,
            "sliding_samples": self.sliding_samples,
            "max_health_failures": self.max_health_failures,
            "latency": [
                {"path": b.path, "p95_ms": b.p95_ms, "baseline_p95_ms": b.baseline_p95_ms}
                for b in self.latency
            ],
            "latency_tolerance_pct": self.latency_tolerance_pct,
            "min_latency_samples": self.min_latency_samples,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchThresholds:
        """Build thresholds from their JSON form; unknown keys are an error."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            expected = ", ".join(sorted(known))
            names = ", ".join(unknown)
            raise ValueError(f"unknown watch threshold(s) {names}; expected {expected}")
        values = dict(data)
        try:
            values["latency"] = tuple(LatencyBudget(**b) for b in data.get("latency", ()))
        except TypeError as exc:
            raise ValueError(
                f"latency budgets take path, p95_ms and baseline_p95_ms: {exc}"
            ) from exc
        return cls(**values)


@dataclass(frozen=True)
class PathSummary:
    """Statistics of one probed path over the whole window."""

    path: str
    samples: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class WindowSummary:
    """What a window measured: the evidence for the report and the task log."""

    window: str
    samples: int
    errors: int
    error_rate_pct: float
    error_rate_judged: bool
    health_probes: int
    health_failures: int
    longest_health_failure_streak: int
    paths: tuple[PathSummary, ...]
    first_sample_at: datetime | None
    last_sample_at: datetime | None
    first_breach_at: datetime | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "window": self.window,
            "samples": self.samples,
            "errors": self.errors,
            "error_rate_pct": self.error_rate_pct,
            "error_rate_judged": self.error_rate_judged,
            "health_probes": self.health_probes,
            "health_failures": self.health_failures,
            "longest_health_failure_streak": self.longest_health_failure_streak,
            "paths": [vars(p) for p in self.paths],
            "first_sample_at": _iso(self.first_sample_at),
            "last_sample_at": _iso(self.last_sample_at),
            "first_breach_at": _iso(self.first_breach_at),
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowSummary:
        """Build a summary from its JSON form."""
        values = dict(data)
        values["paths"] = tuple(PathSummary(**p) for p in data["paths"])
        for key in ("first_sample_at", "last_sample_at", "first_breach_at"):
            values[key] = _from_iso(data[key])
        return cls(**values)


@dataclass(frozen=True)
class Breach:
    """The first threshold crossed: what was measured against what, where and when."""

    kind: BreachKind
    reason: str
    measured: float
    threshold: float
    at: datetime
    path: str | None = None
    # For a metric analysis: its PromQL and the time range its measurements covered.
    query: str | None = None
    since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "kind": self.kind.value,
            "reason": self.reason,
            "measured": self.measured,
            "threshold": self.threshold,
            "at": self.at.isoformat(),
            "path": self.path,
            "query": self.query,
            "since": _iso(self.since),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Breach:
        """Build a breach from its JSON form."""
        return cls(
            kind=BreachKind(data["kind"]),
            reason=data["reason"],
            measured=data["measured"],
            threshold=data["threshold"],
            at=datetime.fromisoformat(data["at"]),
            path=data.get("path"),
            query=data.get("query"),
            since=_from_iso(data.get("since")),
        )


@dataclass(frozen=True)
class Verdict:
    """How a window ended, with the thresholds it was held to and what it measured."""

    outcome: WindowEnd
    summary: WindowSummary
    thresholds: WatchThresholds
    breach: Breach | None = None
    # The metric analyses' verdicts (JSON of `handoff.analysis.verdict.Verdict`) and the
    # handoff's alerts that fired, when the window asked Prometheus.
    analyses: tuple[Mapping[str, Any], ...] = ()
    alerts: tuple[Mapping[str, Any], ...] = ()

    def to_event(self) -> dict[str, Any]:
        """Return the trigger event payload (status, window, summary, thresholds[, breach])."""
        payload: dict[str, Any] = {
            "status": self.outcome.value,
            "window": self.summary.window,
            "summary": self.summary.to_dict(),
            "thresholds": self.thresholds.to_dict(),
        }
        if self.breach is not None:
            payload["reason"] = self.breach.reason
            payload["breach"] = self.breach.to_dict()
        if self.analyses or self.alerts:
            payload["analyses"] = [dict(a) for a in self.analyses]
            payload["alerts"] = [dict(a) for a in self.alerts]
        return payload

    @classmethod
    def from_event(cls, payload: Mapping[str, Any]) -> Verdict:
        """Build a verdict from a trigger event payload."""
        breach = payload.get("breach")
        return cls(
            outcome=WindowEnd(payload["status"]),
            summary=WindowSummary.from_dict(payload["summary"]),
            thresholds=WatchThresholds.from_dict(payload["thresholds"]),
            breach=Breach.from_dict(breach) if breach else None,
            analyses=tuple(payload.get("analyses") or ()),
            alerts=tuple(payload.get("alerts") or ()),
        )


def percentile(values: Iterable[float], q: float) -> float | None:
    """Return the nearest-rank percentile ``q`` (0-100) of the values, None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _PathStats:
    """Running statistics of one path (mutable, private to the evaluator)."""

    samples: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    recent: deque[float] = field(default_factory=deque)


class WindowEvaluator:
    """Accumulate probe samples of one window and latch its first breach."""

    def __init__(self, window: str, health_path: str, thresholds: WatchThresholds) -> None:
        self.window = window
        self.health_path = health_path
        self.thresholds = thresholds
        self.breach: Breach | None = None
        self._samples = self._errors = 0
        self._recent_failed: deque[bool] = deque(maxlen=thresholds.sliding_samples)
        self._paths: dict[str, _PathStats] = {}
        self._health_probes = self._health_failures = 0
        self._streak = self._longest_streak = 0
        self._first_at: datetime | None = None
        self._last_at: datetime | None = None
        self._last_error: str | None = None

    @property
    def samples(self) -> int:
        """Return how many probes were fed."""
        return self._samples

    @property
    def errors(self) -> int:
        """Return how many probes failed."""
        return self._errors

    @property
    def health_streak(self) -> int:
        """Return the current run of failed health probes."""
        return self._streak

    def add(self, sample: Sample) -> Breach | None:
        """Record one probe and return the window's breach once there is one."""
        self._samples += 1
        self._first_at = self._first_at or sample.at
        self._last_at = sample.at
        stats = self._paths.setdefault(sample.path, _PathStats(recent=self._new_recent()))
        stats.samples += 1
        self._recent_failed.append(sample.failed)
        if sample.failed:
            self._errors += 1
            stats.errors += 1
            self._last_error = f"{sample.describe()} at {sample.at.isoformat()}"
        if sample.answered:
            stats.latencies.append(sample.latency_ms)
            stats.recent.append(sample.latency_ms)
        if sample.path == self.health_path:
            self._count_health(sample)
        if self.breach is None:
            self.breach = (
                self._health_breach(sample)
                or self._error_rate_breach(sample)
                or self._latency_breach(sample, stats)
            )
        return self.breach

    def declare(self, breach: Breach) -> Breach:
        """Latch a breach decided outside the thresholds (an engine outage); the first stays."""
        self.breach = self.breach or breach
        return self.breach

    def verdict(self) -> Verdict:
        """Return the window's outcome so far with its summary."""
        outcome = WindowEnd.BREACH if self.breach else WindowEnd.COMPLETED
        return Verdict(outcome, self.summary(), self.thresholds, self.breach)

    def summary(self) -> WindowSummary:
        """Return the statistics of every sample fed so far."""
        paths = tuple(
            PathSummary(
                path=path,
                samples=s.samples,
                errors=s.errors,
                p50_ms=_round(percentile(s.latencies, 50)),
                p95_ms=_round(percentile(s.latencies, 95)),
                max_ms=_round(max(s.latencies, default=None)),
            )
            for path, s in sorted(self._paths.items())
        )
        return WindowSummary(
            window=self.window,
            samples=self._samples,
            errors=self._errors,
            error_rate_pct=_rate(self._errors, self._samples),
            error_rate_judged=self._samples >= self.thresholds.min_samples,
            health_probes=self._health_probes,
            health_failures=self._health_failures,
            longest_health_failure_streak=self._longest_streak,
            paths=paths,
            first_sample_at=self._first_at,
            last_sample_at=self._last_at,
            first_breach_at=self.breach.at if self.breach else None,
            last_error=self._last_error,
        )

    def _new_recent(self) -> deque[float]:
        return deque(maxlen=self.thresholds.sliding_samples)

    def _count_health(self, sample: Sample) -> None:
        self._health_probes += 1
        if sample.answered and 200 <= sample.status < 300:
            self._streak = 0
            return
        self._health_failures += 1
        self._streak += 1
        self._longest_streak = max(self._longest_streak, self._streak)

    def _health_breach(self, sample: Sample) -> Breach | None:
        limit = self.thresholds.max_health_failures
        if self._streak < limit:
            return None
        return Breach(
            BreachKind.HEALTH,
            f"{self._streak} consecutive failed health probes (limit {limit}); "
            f"last: {sample.describe()}",
            measured=self._streak,
            threshold=limit,
            at=sample.at,
            path=sample.path,
        )

    def _error_rate_breach(self, sample: Sample) -> Breach | None:
        window = self._recent_failed
        if len(window) < self.thresholds.min_samples:
            return None
        failed = sum(window)
        rate = _rate(failed, len(window))
        limit = self.thresholds.error_rate_limit_pct
        # "< 1 %" in the contract: reaching the limit is a breach, but zero errors never is.
        if failed == 0 or rate < limit:
            return None
        scope = "last" if self.thresholds.sliding_samples else "first"
        return Breach(
            BreachKind.ERROR_RATE,
            f"error rate {rate:.2f}% ({failed} of the {scope} {len(window)} probes) reached the "
            f"limit of {limit:g}%; last error: {self._last_error}",
            measured=rate,
            threshold=limit,
            at=sample.at,
        )

    def _latency_breach(self, sample: Sample, stats: _PathStats) -> Breach | None:
        budget = self.thresholds.budget_for(sample.path)
        if budget is None or not sample.answered:
            return None
        if len(stats.recent) < self.thresholds.min_latency_samples:
            return None
        p95 = percentile(stats.recent, 95)
        assert p95 is not None  # the deque holds at least min_latency_samples >= 1 values
        n = len(stats.recent)
        if budget.p95_ms is not None and p95 > budget.p95_ms:
            return Breach(
                BreachKind.LATENCY_BUDGET,
                f"p95 of {sample.path} is {p95:.1f} ms over {n} answers, above its budget "
                f"of {budget.p95_ms:g} ms",
                measured=p95,
                threshold=budget.p95_ms,
                at=sample.at,
                path=sample.path,
            )
        tolerance = self.thresholds.latency_tolerance_pct
        if budget.baseline_p95_ms is None or tolerance is None:
            return None
        ceiling = budget.baseline_p95_ms * (1 + tolerance / 100)
        if p95 <= ceiling:
            return None
        return Breach(
            BreachKind.LATENCY_BASELINE,
            f"p95 of {sample.path} is {p95:.1f} ms over {n} answers, more than {tolerance:g}% "
            f"above its baseline of {budget.baseline_p95_ms:g} ms (ceiling {ceiling:.1f} ms)",
            measured=p95,
            threshold=ceiling,
            at=sample.at,
            path=sample.path,
        )


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
