"""The typed HANDOFF/V1 contract: what a handoff says, as values the plan can compute with.

Standard library only. Every value keeps the source line it came from, so lint, the plan and
the deployment report can point back into the file that was handed over. A value that could
not be typed keeps its text and has `None` where the typed value would be.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from handoff.contract.quantities import NamedTarget, Threshold


class ContractForm(enum.Enum):
    """The written form a contract came in."""

    MARKDOWN = "markdown"
    INLINE_BOLD = "inline-bold markdown"
    JSON = "json"
    EMBEDDED_JSON = "json block in markdown"


@dataclass(frozen=True)
class Source:
    """Where a contract came from and the hash of its exact bytes."""

    path: Path
    sha256: str
    form: ContractForm
    id_line: int


@dataclass(frozen=True)
class Party:
    """A sender or recipient of the handoff, e.g. 'SPARC SRE Engineer'."""

    name: str
    role: str | None = None
    mode: str | None = None


@dataclass(frozen=True)
class Item:
    """A labelled line of a section, e.g. '**Database**: schema and migrations ready'."""

    name: str
    text: str
    line: int
    group: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion: `- [ ] **Name**: text` under a `### Group` heading."""

    group: str
    name: str
    text: str
    checked: bool
    line: int


class MetricKind(enum.Enum):
    """The success metrics the plan knows how to measure."""

    DEPLOYMENT_TIME = "deployment time"
    DOWNTIME = "downtime"
    ERROR_RATE = "error rate"
    PERFORMANCE = "performance"
    USER_IMPACT = "user impact"
    MONITORING_COVERAGE = "monitoring coverage"
    OTHER = "other"


@dataclass(frozen=True)
class SuccessMetric:
    """A success metric with its threshold, e.g. Error Rate: at most 1 %."""

    kind: MetricKind
    name: str
    text: str
    threshold: Threshold | None
    line: int


@dataclass(frozen=True)
class PerformanceTarget:
    """A target stated in prose, e.g. dashboard loads at most 3 s."""

    name: str
    threshold: Threshold
    line: int

    @classmethod
    def from_named(cls, target: NamedTarget, line: int) -> PerformanceTarget:
        """Attach a source line to a target found in prose."""
        return cls(target.name, target.threshold, line)


class ImpactLevel(enum.Enum):
    """Impact rating of a risk."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@dataclass(frozen=True)
class Risk:
    """A risk with its mitigation and impact rating."""

    group: str | None
    description: str
    mitigation: str | None
    impact: ImpactLevel | None
    impact_text: str | None
    line: int


class CommunicationKind(enum.Enum):
    """The messages of a communication plan."""

    PRE_DEPLOY_NOTICE = "pre-deploy notice"
    STATUS_UPDATES = "status updates"
    ALL_CLEAR = "all-clear"
    ESCALATION = "escalation"
    ROLLBACK = "rollback communication"
    OTHER = "other"


class Anchor(enum.Enum):
    """The moment an offset is counted from."""

    BEFORE_DEPLOY = "before deploy"
    DURING_DEPLOY = "during deploy"
    AFTER_DEPLOY = "after deploy"
    AFTER_ACCEPTANCE = "after acceptance"
    ON_EVENT = "on event"


@dataclass(frozen=True)
class CommunicationEvent:
    """A planned message, e.g. the pre-deploy notice 24 h before the deploy."""

    kind: CommunicationKind
    name: str
    text: str
    anchor: Anchor
    offset: timedelta | None
    line: int


class WindowKind(enum.Enum):
    """The windows of a contract's timeline."""

    DEPLOYMENT_WINDOW = "deployment window"
    VALIDATION_PERIOD = "validation period"
    MONITORING_PERIOD = "monitoring period"
    HANDOVER = "handover"
    OTHER = "other"


@dataclass(frozen=True)
class TimelineWindow:
    """A timeline entry, e.g. the monitoring period of 72 h after the deploy."""

    kind: WindowKind
    name: str
    text: str
    anchor: Anchor
    duration: timedelta | None
    line: int


@dataclass(frozen=True)
class RollbackTarget:
    """How fast a rollback must complete, and where the contract says so."""

    threshold: Threshold
    line: int


@dataclass(frozen=True)
class Contract:
    """A parsed HANDOFF/V1 contract."""

    source: Source
    handoff_id: str
    title: str
    sender: Party
    recipients: tuple[Party, ...]
    timestamp: datetime
    objective: str
    context: str
    inputs: tuple[Item, ...]
    acceptance_criteria: tuple[Criterion, ...]
    artifacts: tuple[Item, ...]
    dependencies: tuple[Item, ...]
    success_metrics: tuple[SuccessMetric, ...]
    performance_targets: tuple[PerformanceTarget, ...]
    risks: tuple[Risk, ...]
    communication_plan: tuple[CommunicationEvent, ...]
    timeline: tuple[TimelineWindow, ...]
    rollback_target: RollbackTarget | None
    quality_gates: tuple[Item, ...]
    next_steps: tuple[Item, ...]

    def metric(self, kind: MetricKind) -> SuccessMetric | None:
        """Return the success metric of a kind, if the contract states one."""
        return next((m for m in self.success_metrics if m.kind is kind), None)

    def message(self, kind: CommunicationKind) -> CommunicationEvent | None:
        """Return the planned message of a kind, if the contract states one."""
        return next((e for e in self.communication_plan if e.kind is kind), None)

    def window(self, kind: WindowKind) -> TimelineWindow | None:
        """Return the timeline window of a kind, if the contract states one."""
        return next((w for w in self.timeline if w.kind is kind), None)

    @property
    def criterion_groups(self) -> tuple[str, ...]:
        """Return the criterion groups in contract order."""
        return tuple(dict.fromkeys(c.group for c in self.acceptance_criteria))
