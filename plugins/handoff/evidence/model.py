"""One evidence record: a criterion, its status, what was measured against which threshold.

A criterion with no automatic check is recorded NOT_VERIFIED, never PASSED. `log_marker` is
the exact text the task logged with the decision, so a reviewer can find it in the task log.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class EvidenceStatus(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_VERIFIED = "not verified"


@dataclass(frozen=True)
class Evidence:
    """The outcome of one check of one acceptance criterion in one task try."""

    criterion: str
    group: str
    check: str  # a CheckKind value, e.g. "latency against budget and baseline"
    status: EvidenceStatus
    summary: str
    target: str = ""  # "preview", "live" or "" when the check is not about a listener
    measured: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    at: str = ""  # ISO 8601, UTC
    task_id: str = ""
    try_number: int = 0
    log_marker: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(**{**data, "status": EvidenceStatus(data["status"])})
