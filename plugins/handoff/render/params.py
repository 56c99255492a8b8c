"""The trigger form of a handoff DAG: deploy time, release, rehearsal scale, emergency reason.

The form only collects values; preflight checks them against the contract (window, notice)
because a format of "date-time" is not validated by Airflow itself.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param

from handoff.catalog import Handoff
from handoff.contract.quantities import format_seconds
from handoff.plan import StepKind
from handoff.runtime.settings import MAX_TIME_SCALE, Answers


def trigger_params(handoff: Handoff) -> dict[str, Param]:
    """Return the DAG's params, defaulting to what the sidecar says."""
    assert handoff.plan is not None and handoff.acceptance is not None
    plan, acceptance = handoff.plan, handoff.acceptance
    lead = -(plan.step(StepKind.NOTICE).offset or timedelta(0))
    closes = f"{plan.window_closes_at:%Y-%m-%d %H:%M} UTC" if plan.window_closes_at else "-"
    return {
        "deploy_at": Param(
            acceptance.deploy_at.isoformat() if acceptance.deploy_at else None,
            type=["null", "string"],
            format="date-time",
            title="Deploy at (UTC)",
            description=(
                f"Empty: the sidecar's deploy_at, else {format_seconds(lead.total_seconds())} from "
                f"now (the contract's notice). Must be before the window closes ({closes})."
            ),
        ),
        "release": Param(
            acceptance.service.image,
            type="string",
            minLength=1,
            title="Release image",
            description="Overrides the sidecar's release image for this run.",
        ),
        "time_scale": Param(
            1,
            type="number",
            minimum=1,
            maximum=MAX_TIME_SCALE,
            title="Rehearsal time scale",
            description="1 is real time. 3600 makes every hour of the timeline last one second: "
            "a drill of the whole timeline, rollback included, against the same engines.",
        ),
        # Optional text fields are nullable: the UI's trigger form marks a plain "string"
        # param as required and keeps its Trigger button disabled while the field is empty.
        "emergency_reason": Param(
            None,
            type=["null", "string"],
            title="Emergency reason",
            description=f"Required to deploy with less than the contract's "
            f"{format_seconds(lead.total_seconds())} notice; recorded and announced.",
        ),
        "answer_go_no_go": Param(
            Answers.go_no_go,
            type=["null", "string"],
            section="Rehearsal answers",
            title="Go/no-go answer (rehearsal only; empty: ask a person)",
        ),
        "answer_user_issues": Param(
            Answers.user_issues,
            type=["null", "string"],
            section="Rehearsal answers",
            title="User-reported issues answer (rehearsal only; empty: ask a person)",
        ),
        "answer_handover": Param(
            Answers.handover,
            type=["null", "string"],
            section="Rehearsal answers",
            title="Handover sign-off answer (rehearsal only; empty: ask a person)",
        ),
    }
