"""Reports of real rehearsals kept as fixtures, read back into the report model.

tests/fixtures/reports/*.report.json are the JSON reports of the success and rollback
rehearsals of tests/integration/dags (the seed contract on the real Docker engine):
their evidence is what the checks really record, so the renderers are tested on it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.report.model import (
    ChartRow,
    CriterionRow,
    DriftRow,
    EvidenceRow,
    Header,
    MetricRow,
    MetricStatus,
    NotificationRow,
    Report,
    RunOutcome,
    StepRow,
    TaskRow,
)

REPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "reports"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _evidence(data: dict[str, Any]) -> EvidenceRow:
    return EvidenceRow(**data)


def _step(data: dict[str, Any]) -> StepRow:
    tasks = tuple(
        TaskRow(**{**t, "start": _time(t["start"]), "end": _time(t["end"])}) for t in data["tasks"]
    )
    times = {k: _time(data[k]) for k in ("planned_start", "planned_end", "actual_start")}
    return StepRow(**{**data, **times, "actual_end": _time(data["actual_end"]), "tasks": tasks})


def report_from_json(data: dict[str, Any]) -> Report:
    """Return the report a JSON report was written from."""
    header = data["header"]
    return Report(
        header=Header(**{**header, "recipients": tuple(header["recipients"])}),
        outcome=RunOutcome(data["outcome"]),
        outcome_detail=data["outcome_detail"],
        generated_at=datetime.fromisoformat(data["generated_at"]),
        timeline=tuple(_step(s) for s in data["timeline"]),
        criteria=tuple(
            CriterionRow(**{**c, "evidence": tuple(_evidence(e) for e in c["evidence"])})
            for c in data["criteria"]
        ),
        metrics=tuple(
            MetricRow(**{**m, "status": MetricStatus(m["status"])}) for m in data["metrics"]
        ),
        notifications=tuple(NotificationRow(**n) for n in data["notifications"]),
        unplanned_evidence=tuple(_evidence(e) for e in data["unplanned_evidence"]),
        drift=tuple(DriftRow(**d) for d in data["drift"]),
        dependencies=tuple(
            CriterionRow(**{**c, "evidence": tuple(_evidence(e) for e in c["evidence"])})
            for c in data.get("dependencies", ())  # reports kept before the section existed
        ),
        charts=tuple(
            ChartRow(
                c["title"],
                c["unit"],
                tuple((n, tuple((t, v) for t, v in points)) for n, points in c["lines"]),
            )
            for c in data.get("charts", ())
        ),
    )


def rehearsal_report(name: str) -> Report:
    """Return the report of a kept rehearsal: "success" or "rollback"."""
    return report_from_json(json.loads((REPORTS / f"{name}.report.json").read_text()))
