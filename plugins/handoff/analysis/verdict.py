"""Metric analysis in the manner of Argo Rollouts and Flagger: measurements to a verdict.

A metric has a condition (operator and threshold), an interval, a failure limit, a
consecutive-error limit, an inconclusive limit and a minimum sample count. Each query's
answer becomes one ``Measurement``:

- ERROR: the query failed (Prometheus unreachable, bad query, timeout);
- INCONCLUSIVE: no value, NaN or an infinity, or fewer samples than the minimum
  (a quiet window proves nothing, so it never passes and never fails);
- SUCCESSFUL or FAILED: the condition held or not.

``verdict`` reads the measurements so far: FAILED once failures exceed the failure limit
(early, as Argo does), ERROR once consecutive errors exceed their limit, and at the end
INCONCLUSIVE when inconclusive measurements exceed their limit or nothing was measured,
else PASSED. What an inconclusive or errored analysis leads to is a policy value, said in
the verdict. Everything here is a pure function over plain data; ``AnalysisState`` is
JSON-able, so a deferred trigger can carry it across a triggerer restart.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Operator(StrEnum):
    """How a measured value is compared with its threshold."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


_COMPARE: dict[Operator, Callable[[float, float], bool]] = {
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
}


@dataclass(frozen=True)
class Condition:
    """The success condition: ``value <operator> threshold``."""

    operator: Operator
    threshold: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold {self.threshold!r} must be a finite number")

    def holds(self, value: float) -> bool:
        """Return True when the value meets the condition."""
        return _COMPARE[self.operator](value, self.threshold)

    def describe(self) -> str:
        """Return the condition as a person reads it."""
        return f"{self.operator.value} {self.threshold:g}"


class InconclusivePolicy(StrEnum):
    """What an inconclusive (or errored) analysis leads to."""

    EXTEND = "extend"  # watch longer: the window is extended, up to its bound
    ASK = "ask"  # ask a person (a human gate) whether to go on or roll back
    BREACH = "breach"  # treat it as a failure: roll back


#: Safe by default: an analysis that saw too little neither passes a release nor rolls back
#: a good one on no evidence; a person decides (Argo Rollouts pauses the same way).
DEFAULT_INCONCLUSIVE_POLICY = InconclusivePolicy.ASK


@dataclass(frozen=True)
class AnalysisSpec:
    """One metric's analysis.

    Parameters: ``metric`` (its name in evidence), ``promql`` and ``samples_promql`` (the
    value and the sample count queries), ``condition``, ``interval_s`` between measurements,
    ``failure_limit`` (failed measurements tolerated; one more fails the analysis),
    ``consecutive_error_limit`` (query errors in a row tolerated), ``inconclusive_limit``
    (inconclusive measurements tolerated), ``min_samples`` (below: inconclusive),
    ``on_inconclusive`` and ``on_error`` (the policies).
    """

    metric: str
    promql: str
    condition: Condition
    samples_promql: str | None = None
    interval_s: float = 60.0
    failure_limit: int = 0
    consecutive_error_limit: int = 4
    inconclusive_limit: int = 0
    min_samples: float = 0.0
    on_inconclusive: InconclusivePolicy = DEFAULT_INCONCLUSIVE_POLICY
    on_error: InconclusivePolicy = InconclusivePolicy.BREACH

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError(f"{self.metric}: interval must be positive, not {self.interval_s}")
        limits = (self.failure_limit, self.consecutive_error_limit, self.inconclusive_limit)
        if min(limits) < 0 or self.min_samples < 0:
            raise ValueError(f"{self.metric}: limits and the minimum sample count must be >= 0")

    def to_json(self) -> dict[str, Any]:
        """Return the spec as plain JSON data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalysisSpec:
        """Return a spec from ``to_json``'s data."""
        condition = data["condition"]
        return cls(
            **(
                data
                | {
                    "condition": Condition(Operator(condition["operator"]), condition["threshold"]),
                    "on_inconclusive": InconclusivePolicy(data["on_inconclusive"]),
                    "on_error": InconclusivePolicy(data["on_error"]),
                }
            )
        )


class Phase(StrEnum):
    """What one measurement found."""

    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


@dataclass(frozen=True)
class Measurement:
    """One query's answer, judged: when, the value, the samples, the phase and why."""

    at: float
    phase: Phase
    value: float | None
    samples: float | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON data (NaN and infinities written as strings, as Prometheus does)."""
        return {
            "at": self.at,
            "phase": self.phase.value,
            "value": _json_number(self.value),
            "samples": _json_number(self.samples),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        """Return a measurement from ``to_json``'s data."""
        return cls(
            at=float(data["at"]),
            phase=Phase(data["phase"]),
            value=None if data["value"] is None else float(data["value"]),
            samples=None if data["samples"] is None else float(data["samples"]),
            reason=str(data["reason"]),
        )


def _json_number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def measure(
    spec: AnalysisSpec,
    at: float,
    value: float | None,
    samples: float | None = None,
    error: str | None = None,
) -> Measurement:
    """Judge one answer: an error, a value and its sample count, against the spec."""
    if error is not None:
        return Measurement(at, Phase.ERROR, None, samples, f"query failed: {error}")
    if value is None:
        return Measurement(at, Phase.INCONCLUSIVE, None, samples, "no value (empty result)")
    if not math.isfinite(value):
        why = f"value is {_json_number(value)} (no traffic, or a division by zero)"
        return Measurement(at, Phase.INCONCLUSIVE, value, samples, why)
    too_few = samples is None or not math.isfinite(samples) or samples < spec.min_samples
    if spec.min_samples > 0 and too_few:
        seen = "no" if samples is None else f"{samples:g}"
        why = f"{seen} samples, fewer than the minimum {spec.min_samples:g}"
        return Measurement(at, Phase.INCONCLUSIVE, value, samples, why)
    held = spec.condition.holds(value)
    phase = Phase.SUCCESSFUL if held else Phase.FAILED
    why = f"{value:g} {'meets' if held else 'misses'} {spec.condition.describe()}"
    return Measurement(at, phase, value, samples, why)


class Status(StrEnum):
    """Where an analysis stands."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class Action(StrEnum):
    """What the caller does with the verdict."""

    CONTINUE = "continue"  # keep measuring
    PASS = "pass"  # the metric passed the window
    BREACH = "breach"  # end the window as failed: roll back
    EXTEND = "extend"  # watch longer
    ASK = "ask"  # ask a person


_POLICY_ACTION = {
    InconclusivePolicy.EXTEND: Action.EXTEND,
    InconclusivePolicy.ASK: Action.ASK,
    InconclusivePolicy.BREACH: Action.BREACH,
}


@dataclass(frozen=True)
class Counts:
    """How many measurements of each phase, and the errors in a row at the end."""

    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_errors: int = 0


def count(measurements: Sequence[Measurement], prior: Counts | None = None) -> Counts:
    """Return the phases counted (plus ``prior``'s), and the run of errors at the end."""
    p = prior or Counts()
    by_phase = {
        Phase.SUCCESSFUL: p.successful,
        Phase.FAILED: p.failed,
        Phase.INCONCLUSIVE: p.inconclusive,
        Phase.ERROR: p.error,
    }
    run = p.consecutive_errors
    for m in measurements:
        by_phase[m.phase] += 1
        run = run + 1 if m.phase is Phase.ERROR else 0
    return Counts(
        by_phase[Phase.SUCCESSFUL],
        by_phase[Phase.FAILED],
        by_phase[Phase.INCONCLUSIVE],
        by_phase[Phase.ERROR],
        run,
    )


@dataclass(frozen=True)
class Verdict:
    """An analysis' status, what to do, and why (the evidence a window ends with)."""

    metric: str
    status: Status
    action: Action
    reasons: tuple[str, ...]
    counts: Counts
    condition: str
    last: Measurement | None = None
    policy: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON data."""
        return {
            "metric": self.metric,
            "status": self.status.value,
            "action": self.action.value,
            "reasons": list(self.reasons),
            "counts": asdict(self.counts),
            "condition": self.condition,
            "last": self.last.to_json() if self.last else None,
            "policy": self.policy,
        }


def verdict(
    spec: AnalysisSpec,
    measurements: Sequence[Measurement],
    finished: bool,
    prior: Counts | None = None,
) -> Verdict:
    """Return the verdict of the measurements so far; ``finished`` once the window is over.

    ``prior`` counts measurements no longer at hand (see ``AnalysisState.max_kept``).
    """
    c = count(measurements, prior)
    last = measurements[-1] if measurements else None

    def done(status: Status, action: Action, *reasons: str, policy: str = "") -> Verdict:
        return Verdict(
            spec.metric, status, action, reasons, c, spec.condition.describe(), last, policy
        )

    if c.failed > spec.failure_limit:
        failed = [m.reason for m in measurements if m.phase is Phase.FAILED]
        return done(
            Status.FAILED,
            Action.BREACH,
            f"{c.failed} failed measurement(s), more than the failure limit {spec.failure_limit}",
            *failed[-3:],
        )
    if c.consecutive_errors > spec.consecutive_error_limit:
        policy = f"on_error={spec.on_error.value}"
        return done(
            Status.ERROR,
            _POLICY_ACTION[spec.on_error],
            f"{c.consecutive_errors} query errors in a row, more than the limit "
            f"{spec.consecutive_error_limit}",
            last.reason if last else "",
            policy=policy,
        )
    if not finished:
        return done(Status.RUNNING, Action.CONTINUE, f"{len(measurements)} measurement(s) so far")
    policy = f"on_inconclusive={spec.on_inconclusive.value}"
    if c.inconclusive > spec.inconclusive_limit:
        inconclusive = [m.reason for m in measurements if m.phase is Phase.INCONCLUSIVE]
        return done(
            Status.INCONCLUSIVE,
            _POLICY_ACTION[spec.on_inconclusive],
            f"{c.inconclusive} inconclusive measurement(s), more than the limit "
            f"{spec.inconclusive_limit}",
            *inconclusive[-3:],
            policy=policy,
        )
    if c.successful == 0:
        return done(
            Status.INCONCLUSIVE,
            _POLICY_ACTION[spec.on_inconclusive],
            "no successful measurement: nothing shows the condition held",
            policy=policy,
        )
    return done(
        Status.PASSED,
        Action.PASS,
        f"{c.successful} measurement(s) met {spec.condition.describe()}, {c.failed} failed "
        f"(limit {spec.failure_limit})",
    )


@dataclass(frozen=True)
class AnalysisState:
    """An analysis in progress: its spec, when it started, its measurements (JSON-able).

    ``max_kept`` bounds the measurements carried (a 72 h window at 1 a minute is 4,320);
    the counts of the dropped ones are kept, so limits stay exact.
    """

    spec: AnalysisSpec
    started_at: float
    measurements: tuple[Measurement, ...] = ()
    dropped: Counts = field(default_factory=Counts)
    max_kept: int = 500

    def record(self, measurement: Measurement) -> AnalysisState:
        """Return the state with one more measurement."""
        kept = (*self.measurements, measurement)
        dropped = self.dropped
        if len(kept) > self.max_kept:
            oldest, kept = kept[0], kept[1:]
            dropped = _add(dropped, oldest)
        return replace(self, measurements=kept, dropped=dropped)

    def next_due(self) -> float:
        """Return when the next measurement is due (Unix time)."""
        if not self.measurements:
            return self.started_at
        return self.measurements[-1].at + self.spec.interval_s

    def verdict(self, finished: bool) -> Verdict:
        """Return the verdict over every measurement, the dropped ones included."""
        return verdict(self.spec, self.measurements, finished, self.dropped)

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON data (what a trigger's ``serialize()`` can carry)."""
        return {
            "spec": self.spec.to_json(),
            "started_at": self.started_at,
            "measurements": [m.to_json() for m in self.measurements],
            "dropped": asdict(self.dropped),
            "max_kept": self.max_kept,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalysisState:
        """Return a state from ``to_json``'s data."""
        return cls(
            spec=AnalysisSpec.from_json(data["spec"]),
            started_at=float(data["started_at"]),
            measurements=tuple(Measurement.from_json(m) for m in data["measurements"]),
            dropped=Counts(**data["dropped"]),
            max_kept=int(data["max_kept"]),
        )


def _add(counts: Counts, dropped: Measurement) -> Counts:
    """Return the counts with one more measurement of the dropped one's phase."""
    name = dropped.phase.value
    run = counts.consecutive_errors + 1 if dropped.phase is Phase.ERROR else 0
    return replace(counts, **{name: getattr(counts, name) + 1, "consecutive_errors": run})
