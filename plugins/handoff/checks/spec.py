"""What a kind of check declares about itself: a `CheckSpec`.

A spec says which criterion words bind to the kind, in which phases it runs, which sidecar
settings under `checks:` it reads, when it has nothing to measure, and its gate tasks. Each
kind declares one spec in its own module; `handoff.checks.registry` lists them. Nothing here
imports Airflow or the task layer: a gate names its task callable as "module:function".
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from handoff.acceptance.sidecar import Acceptance
from handoff.checks.finding import Finding
from handoff.checks.http import Exchange
from handoff.checks.kinds import CheckKind, CheckPhase

# The task callable that runs a kind's `measure` as a gate (see `measured_gate`).
MEASURED_GATE_TASK = "handoff.tasks.check_gates:measured_gate"


@dataclass(frozen=True)
class Rule:
    """Words that bind a criterion to a kind when all appear in its name (else its text).

    Rules of every kind are tried in ascending `priority`, the first match wins: a specific
    rule ("security monitoring") needs a lower number than a general one ("security").
    """

    priority: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class SidecarSettings:
    """A field under the sidecar's `checks:` that a kind reads, and its model.

    The models stay in `handoff.acceptance.sidecar`: the acceptance layer sits below this
    package (checks -> evidence -> acceptance), so it cannot read the registry.
    """

    key: str
    model: type[BaseModel]
    many: bool = False  # a list of `model` (e.g. endpoints), not one


class GateRuns(enum.Enum):
    """Whether a gate's task is in a handoff's DAG."""

    ALWAYS = "in every DAG"
    WHEN_BOUND = "when a criterion is bound to the kind in the gate's phase"
    WHEN_CONFIGURED = "when the sidecar configures it"


def _always(_acceptance: Acceptance) -> bool:
    return True


@dataclass(frozen=True)
class Gate:
    """One task that runs a kind's check in a phase.

    A gate that runs `WHEN_BOUND` records "not verified" instead of measuring when its kind's
    `missing` says the sidecar gives it nothing to measure.
    """

    phase: CheckPhase
    task_id: str
    # "module:function" of the task callable (named, not imported: tasks import checks).
    task: str
    op_kwargs: tuple[tuple[str, str], ...] = ()
    runs: GateRuns = GateRuns.WHEN_BOUND
    # For WHEN_CONFIGURED: whether this sidecar asks for the gate.
    configured: Callable[[Acceptance], bool] = _always
    # Kinds whose evidence the task records besides its own kind's.
    also_records: tuple[CheckKind, ...] = ()

    def in_dag(self, acceptance: Acceptance, bound: bool) -> bool:
        """Tell whether the gate's task is in the DAG (`bound`: a criterion is, in its phase)."""
        if self.runs is GateRuns.WHEN_BOUND:
            return bound
        if self.runs is GateRuns.WHEN_CONFIGURED:
            return self.configured(acceptance)
        return True

    @property
    def kwargs(self) -> dict[str, str]:
        """Return the gate's keyword arguments for its task callable."""
        return dict(self.op_kwargs)

    @property
    def callable_name(self) -> str:
        """Return the task callable's function name, e.g. 'performance_gate'."""
        return self.task.rpartition(":")[2]


class Probe(Protocol):
    """What a kind's `measure` is given: the sidecar and one router listener to ask."""

    @property
    def acceptance(self) -> Acceptance:
        """The handoff's sidecar (its `checks:` hold the kind's settings)."""

    @property
    def listener(self) -> str:
        """The listener measured: 'preview' before the switch, 'live' after it."""

    def get(self, path: str) -> Exchange:
        """Send one GET through the listener; never raise for network errors."""


def _nothing_missing(_acceptance: Acceptance) -> str:
    return ""


@dataclass(frozen=True)
class CheckSpec:
    """Everything one kind of check declares; see docs/adding-a-check.md."""

    kind: CheckKind
    rules: tuple[Rule, ...]
    phases: tuple[CheckPhase, ...]
    settings: tuple[SidecarSettings, ...] = ()
    # Why the check will have nothing to measure for this sidecar, or ''.
    missing: Callable[[Acceptance], str] = _nothing_missing
    gates: tuple[Gate, ...] = ()
    # A gate of task MEASURED_GATE_TASK calls this and records its findings.
    measure: Callable[[Probe], Sequence[Finding]] | None = None


def needs(configured: Callable[[Acceptance], object], what: str) -> Callable[[Acceptance], str]:
    """Return a `missing` that says `what` is absent unless `configured(acceptance)` holds."""

    def missing(acceptance: Acceptance) -> str:
        return "" if configured(acceptance) else f"{what}: will be reported not verified"

    return missing


def records_of(spec: CheckSpec, gate: Gate) -> tuple[CheckKind, ...]:
    """Return the kinds whose evidence a gate's task records."""
    return (spec.kind, *gate.also_records)


def measured_gate(phase: CheckPhase, task_id: str, kind: CheckKind, listener: str) -> Gate:
    """Return a gate that runs the kind's `measure` through a listener."""
    return Gate(phase, task_id, MEASURED_GATE_TASK, (("kind", kind.value), ("listener", listener)))


def rules_in_order(specs: Sequence[CheckSpec]) -> list[tuple[tuple[str, ...], CheckKind]]:
    """Return every spec's rules as (words, kind), in the order they are tried."""
    ranked = sorted(
        ((rule, spec.kind) for spec in specs for rule in spec.rules),
        key=lambda pair: pair[0].priority,
    )
    return [(rule.words, kind) for rule, kind in ranked]


def by_kind(specs: Sequence[CheckSpec]) -> Mapping[CheckKind, CheckSpec]:
    """Return the specs by kind."""
    return {spec.kind: spec for spec in specs}
