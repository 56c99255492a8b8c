"""The trigger form of a handoff DAG: deploy time, release, rehearsal scale, emergency reason.

The form only collects values; preflight checks them against the contract (window, notice)
and the environment (rehearsals, releases), because a format of "date-time" is not validated
by Airflow itself. The rehearsal answers are empty: the form says which answer approves each
gate, and a person is asked unless whoever triggers the run writes one.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param

from handoff.acceptance.environment import RehearsalPolicy
from handoff.catalog import Handoff
from handoff.contract.quantities import format_seconds
from handoff.plan import StepKind
from handoff.runtime.settings import APPROVING_ANSWERS, MAX_TIME_SCALE

_GATES = {
    "go_no_go": "Go/no-go",
    "user_issues": "User-reported issues",
    "handover": "Handover sign-off",
}


def _answer_params(allowed: bool) -> dict[str, Param]:
    """Return the rehearsal answers: empty, each saying which text would approve its gate."""
    return {
        f"answer_{key}": Param(
            None,
            type=["null", "string"],
            section="Rehearsal answers",
            title=f"{title} answer (rehearsal only; empty: ask a person)",
            description=(
                f"In a rehearsal, '{APPROVING_ANSWERS[key]}' approves this gate without a person "
                "and any other text rejects it; empty asks a person, as a run at time_scale 1 "
                "always does."
                if allowed
                else "Unused: this environment does not allow rehearsals, so a person answers."
            ),
        )
        for key, title in _GATES.items()
    }


def trigger_params(handoff: Handoff) -> dict[str, Param]:
    """Return the DAG's params, defaulting to what the sidecar says."""
    assert handoff.plan is not None and handoff.acceptance is not None
    plan, acceptance = handoff.plan, handoff.acceptance
    environment = handoff.environment
    env_file = f"environments/{acceptance.environment}.yaml"
    allowed = environment is not None and environment.rehearsals is RehearsalPolicy.ALLOWED
    releases = (
        environment.releases.describe()
        if environment is not None and environment.releases.restricted
        else "the sidecar's image only"
    )
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
            description=f"Overrides the sidecar's release image for this run; {env_file} "
            f"allows {releases}.",
        ),
        "time_scale": Param(
            1,
            type="number",
            minimum=1,
            maximum=MAX_TIME_SCALE if allowed else 1,
            title="Rehearsal time scale",
            description=(
                "1 is real time. 3600 makes every hour of the timeline last one second: a drill "
                "of the whole timeline, rollback included, against the same engines. The window "
                "and the notice still hold, in the contract's time."
                if allowed
                else f"1 only: {env_file} does not say rehearsals: allowed."
            ),
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
        **_answer_params(allowed),
    }
