"""The deployment report of one run: plain frozen values, rendered as Markdown, HTML and JSON.

Every number in it comes from a record of the run (evidence records, the notification
ledger, what a step returned, the timings the tasks recorded); nothing is estimated. What
was not measured says so.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class RunOutcome(enum.Enum):
    """How the run ended, as the report tells it."""

    SUCCEEDED = "succeeded"
    ABORTED = "aborted"
    ROLLED_BACK = "rolled back"
    FAILED = "failed"


class MetricStatus(enum.Enum):
    """A success metric against its target."""

    MET = "met"
    MISSED = "missed"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Header:
    """Who handed what over, and the fingerprints of the inputs the run executed."""

    handoff_id: str
    title: str
    sender: str
    recipients: tuple[str, ...]
    objective: str
    service: str
    release: str
    environment: str
    dag_id: str
    run_id: str
    run_url: str
    contract_sha256: str
    sidecar_sha256: str
    environment_sha256: str
    rehearsal_time_scale: float


@dataclass(frozen=True)
class TaskRow:
    """One task of the run: its state, when it ran and where its log is."""

    task_id: str
    state: str
    try_number: int | None
    start: datetime | None
    end: datetime | None
    log_url: str

    @property
    def seconds(self) -> float | None:
        """Return how long the task ran, when it ended."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class StepRow:
    """A step of the timeline: planned (scaled in a rehearsal) against actual."""

    step: str
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    state: str
    tasks: tuple[TaskRow, ...]


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence record as the report shows it."""

    status: str
    summary: str
    target: str
    measured: dict[str, Any]
    thresholds: dict[str, Any]
    at: str
    task_id: str
    try_number: int
    log_marker: str
    log_url: str
    criterion: str = ""  # the criterion the record names (reports kept before it: "")


@dataclass(frozen=True)
class CriterionRow:
    """An acceptance criterion, the check bound to it and what its evidence says."""

    group: str
    name: str
    check: str
    status: str
    evidence: tuple[EvidenceRow, ...]


@dataclass(frozen=True)
class MetricRow:
    """A success metric: target against measured, and where the figure comes from."""

    name: str
    target: str
    measured: str
    value: float | None
    status: MetricStatus
    source: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationRow:
    """One message of the communication plan, as the ledger recorded it."""

    event: str
    step: str
    status: str
    attempts: int
    error: str
    at: str


@dataclass(frozen=True)
class DriftRow:
    """A live file that changed during the run; the run kept its snapshot's version."""

    role: str
    path: str
    snapshot_sha256: str
    live_sha256: str  # "" when the file was deleted
    seen_at: str
    seen_by: str


# One line of a chart: a colour and its (unix seconds, value) points, as Prometheus gave.
Line = tuple[str, tuple[tuple[float, float], ...]]


@dataclass(frozen=True)
class ChartRow:
    """A chart of the run's windows: a line per colour over the run."""

    title: str
    unit: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class SchemaRow:
    """A phase of the schema's change (expand, contract) or the rollback's schema decision."""

    phase: str  # "expand", "contract" or "rollback"
    state: str  # the task's state ("not run" when it never started)
    steps: tuple[str, ...]  # the migration files applied
    schema_version: int | None
    detail: str  # the colours' releases and what they ship; for a rollback, went ahead/refused


@dataclass(frozen=True)
class Report:
    """The whole report of one run."""

    header: Header
    outcome: RunOutcome
    outcome_detail: str
    generated_at: datetime
    timeline: tuple[StepRow, ...]
    criteria: tuple[CriterionRow, ...]
    metrics: tuple[MetricRow, ...]
    notifications: tuple[NotificationRow, ...]
    unplanned_evidence: tuple[EvidenceRow, ...] = ()
    drift: tuple[DriftRow, ...] = ()
    # The contract's Dependencies, each with what preflight proved of it (group is the check).
    dependencies: tuple[CriterionRow, ...] = ()
    # Error rate and p95 per colour over the run, from Prometheus (none: not observed).
    charts: tuple[ChartRow, ...] = ()
    # With service.database.migrations only: expand, contract, and the rollback's decision.
    schema: tuple[SchemaRow, ...] = ()

    def metric(self, name: str) -> MetricRow:
        """Return a metric by name."""
        return next(m for m in self.metrics if m.name == name)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (enums as values, times as ISO 8601)."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value
