"""The deployment plan: the contract's timeline, thresholds and checks, ready to render.

Plain values only. The DAG layer renders a plan into Airflow objects; nothing here knows
about Airflow, so the plan can be shown, diffed and tested in milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from handoff.acceptance import Acceptance, Environment

# Re-exported: the plan's callers name the kinds of check through handoff.plan.
from handoff.checks.kinds import CheckKind as CheckKind
from handoff.checks.kinds import CheckPhase as CheckPhase
from handoff.contract.model import Contract, Criterion
from handoff.contract.quantities import NamedTarget, Threshold


class StepKind(enum.Enum):
    """The steps of a handoff's timeline, in order."""

    PREFLIGHT = "preflight"
    NOTICE = "pre-deploy notice"
    WAIT_FOR_WINDOW = "wait for the deploy time"
    DEPLOY = "deploy the idle colour"
    PRE_SWITCH_GATES = "pre-switch gates"
    SWITCH = "switch"
    POST_SWITCH_VERIFY = "post-switch verification"
    ALL_CLEAR = "all-clear"
    VALIDATION_PERIOD = "validation period"
    MONITORING_PERIOD = "monitoring period"
    HANDOVER = "handover"
    ROLLBACK = "rollback"
    FINALIZE = "finalize"


class OnFailure(enum.Enum):
    """What a failing step leads to."""

    STOP = "stop before deploying, escalate"
    RECORD = "recorded, never blocks"
    WINDOW_MISSED = "window missed: stop, notify"
    ABORT = "abort, live untouched"
    ROLLBACK = "rollback"
    ESCALATE = "escalate"
    NOTHING = "-"


@dataclass(frozen=True)
class Basis:
    """Where a planned value comes from: a contract line, the sidecar, or a project default."""

    description: str
    line: int | None = None

    def render(self) -> str:
        """Return e.g. 'contract line 109' or 'project default'."""
        return f"{self.description} line {self.line}" if self.line else self.description


DEFAULT = Basis("project default")


@dataclass(frozen=True)
class PlanStep:
    """One step of the timeline, with its offset from the deploy time when it has one."""

    kind: StepKind
    offset: timedelta | None
    at: datetime | None
    on_failure: OnFailure
    basis: Basis
    detail: str = ""


@dataclass(frozen=True)
class PlannedThreshold:
    """A threshold the run holds the release to, and where it comes from."""

    name: str
    threshold: Threshold
    basis: Basis


@dataclass(frozen=True)
class CheckBinding:
    """An acceptance criterion, the check that produces its evidence, and when it runs."""

    criterion: Criterion
    kind: CheckKind
    phases: tuple[CheckPhase, ...]
    note: str = ""


@dataclass(frozen=True)
class DeploymentPlan:
    """Everything a run of one handoff does, derived from contract, sidecar and environment."""

    contract: Contract
    acceptance: Acceptance | None
    environment: Environment | None
    deploy_at: datetime | None
    window_closes_at: datetime | None
    steps: tuple[PlanStep, ...]
    thresholds: tuple[PlannedThreshold, ...]
    performance_targets: tuple[NamedTarget, ...]
    checks: tuple[CheckBinding, ...]

    @property
    def handoff_id(self) -> str:
        """Return the handoff id the plan is for."""
        return self.contract.handoff_id

    def step(self, kind: StepKind) -> PlanStep:
        """Return the step of a kind."""
        return next(s for s in self.steps if s.kind is kind)

    def threshold(self, name: str) -> PlannedThreshold:
        """Return a planned threshold by name."""
        return next(t for t in self.thresholds if t.name == name)

    def checks_in(self, phase: CheckPhase) -> tuple[CheckBinding, ...]:
        """Return the checks that run in a phase."""
        return tuple(c for c in self.checks if phase in c.phases)
