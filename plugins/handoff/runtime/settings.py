"""The settings of one run: deploy time, release, rehearsal scale, emergency reason, answers.

They come from the trigger form (the run's conf), fall back to the sidecar, and are checked
against the contract: the deploy time must fall inside the window after acceptance, and a
deploy with less notice than the contract asks needs an emergency reason, which is recorded
and announced. Pure Python: the preflight task resolves them once and passes them on.

A rehearsal (time_scale other than 1) is a mode the environment must allow
(`rehearsals: allowed`): it runs against the same engines, and its human gates may be
answered from the run's parameters. It compresses time; it waives no rule. The window and
the notice are checked in the contract's time at every scale: a rehearsal's deploy_at must
fall inside the window, and at least the contract's notice after now (which the compressed
run then gives in notice / time_scale of real time), else it needs an emergency reason like
any run. The release, rehearsal or not, must be one the environment allows (`releases`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from handoff.acceptance.environment import Environment, RehearsalPolicy
from handoff.contract.quantities import format_seconds
from handoff.errors import HandoffError
from handoff.plan import DeploymentPlan, StepKind

# The largest compression a rehearsal may ask for (1 h -> 3.6 ms would be meaningless).
MAX_TIME_SCALE = 100_000.0
# A few minutes of slack so a run triggered "now" for a deploy "now + lead" is not refused.
_NOTICE_SLACK = timedelta(minutes=5)


class RunSettingsError(HandoffError):
    """The run's parameters contradict the contract or the sidecar."""


# The answer that approves each gate in a rehearsal (`handoff.tasks.human_gate` also takes yes/go);
# any other text rejects. The trigger form shows them; it never fills them in.
APPROVING_ANSWERS = {
    "go_no_go": "approve",
    "user_issues": "none reported",
    "handover": "accept handover",
}


@dataclass(frozen=True)
class Answers:
    """Answers to the human gates in a rehearsal; empty (the default): a person is asked.

    Nothing is answered on anyone's behalf unless the run's trigger wrote the answer.
    """

    go_no_go: str = ""
    user_issues: str = ""
    handover: str = ""


@dataclass(frozen=True)
class RunSettings:
    """What one run does, resolved and checked at preflight."""

    deploy_at: datetime
    release: str
    time_scale: float
    emergency_reason: str
    answers: Answers
    window_closes_at: datetime
    notice_lead: timedelta

    @property
    def rehearsal(self) -> bool:
        """Tell whether this run compresses time (a drill against the same engines)."""
        return self.time_scale != 1

    def scaled(self, duration: timedelta) -> timedelta:
        """Return how long a contract duration lasts in this run."""
        return duration / self.time_scale

    def to_xcom(self) -> dict[str, Any]:
        """Return a JSON-ready form for XCom."""
        data = asdict(self)
        data["deploy_at"] = self.deploy_at.isoformat()
        data["window_closes_at"] = self.window_closes_at.isoformat()
        data["notice_lead"] = self.notice_lead.total_seconds()
        return data

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> RunSettings:
        """Rebuild settings pushed by preflight."""
        return cls(
            deploy_at=datetime.fromisoformat(data["deploy_at"]),
            release=data["release"],
            time_scale=float(data["time_scale"]),
            emergency_reason=data["emergency_reason"],
            answers=Answers(**data["answers"]),
            window_closes_at=datetime.fromisoformat(data["window_closes_at"]),
            notice_lead=timedelta(seconds=float(data["notice_lead"])),
        )


def _time_scale(conf: Mapping[str, Any]) -> float:
    raw = conf.get("time_scale", 1)
    try:
        scale = float(raw)
    except (TypeError, ValueError):
        raise RunSettingsError(f"time_scale must be a number, got {raw!r}") from None
    if not 1 <= scale <= MAX_TIME_SCALE:
        raise RunSettingsError(f"time_scale must be between 1 and {MAX_TIME_SCALE:g}, got {raw!r}")
    return scale


def _deploy_at(
    conf: Mapping[str, Any], plan: DeploymentPlan, now: datetime, lead: timedelta
) -> datetime:
    raw = str(conf.get("deploy_at") or "").strip()
    if not raw:
        # No time given: the sidecar's, else the contract's notice from now.
        if plan.deploy_at is not None:
            return plan.deploy_at
        return now + lead
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RunSettingsError(
            f"deploy_at {raw!r} is not an ISO 8601 date and time (e.g. 2026-11-28T09:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise RunSettingsError(f"deploy_at {raw!r} has no time zone; end it with Z or +00:00")
    return value


def _environment_file(plan: DeploymentPlan, environment_file: Path | None) -> str:
    if environment_file is not None:
        return str(environment_file)
    name = plan.acceptance.environment if plan.acceptance else "?"
    return f"environments/{name}.yaml"


def _check_rehearsal(plan: DeploymentPlan, scale: float, where: str) -> None:
    """Refuse a compressed run unless the environment file allows rehearsals."""
    environment = plan.environment
    policy = environment.rehearsals if environment is not None else RehearsalPolicy.REFUSED
    if scale != 1 and policy is not RehearsalPolicy.ALLOWED:
        raise RunSettingsError(
            f"time_scale {scale:g} asks for a rehearsal, but {where} does not allow rehearsals "
            f"(field rehearsals: {policy.value}; expected rehearsals: allowed). A rehearsal runs "
            "against this environment's engines; run with time_scale 1, or rehearse in an "
            "environment whose file says rehearsals: allowed"
        )


def _check_release(
    plan: DeploymentPlan, release: str, environment: Environment, where: str
) -> None:
    """Refuse a release the environment does not allow (by repository prefix or digest)."""
    assert plan.acceptance is not None
    policy = environment.releases
    if policy.allows(release):
        return
    own = plan.acceptance.service.image
    if not policy.restricted and release == own:
        return
    allowed = policy.describe() if policy.restricted else f"the sidecar's image {own!r} only"
    raise RunSettingsError(
        f"release {release[:200]!r} is not allowed by {where} (field releases: allowed_prefixes, "
        f"digests): allowed are {allowed}"
    )


def resolve_run_settings(
    plan: DeploymentPlan,
    conf: Mapping[str, Any],
    now: datetime,
    environment_file: Path | None = None,
) -> RunSettings:
    """Resolve and check a run's settings; raise `RunSettingsError` naming what is wrong.

    `environment_file` is named in errors about the environment's rules (rehearsals,
    releases); unset, they say `environments/<name>.yaml`.
    """
    acceptance = plan.acceptance
    if acceptance is None or plan.window_closes_at is None:
        raise RunSettingsError(f"{plan.handoff_id} is not accepted: no sidecar")
    if plan.environment is None:
        raise RunSettingsError(f"{plan.handoff_id} has no environment")
    where = _environment_file(plan, environment_file)
    scale = _time_scale(conf)
    _check_rehearsal(plan, scale, where)
    lead = -(plan.step(StepKind.NOTICE).offset or timedelta(0))
    deploy_at = _deploy_at(conf, plan, now, lead)
    reason = str(conf.get("emergency_reason") or "").strip()
    release = str(conf.get("release") or "").strip() or acceptance.service.image
    _check_release(plan, release, plan.environment, where)
    closes = plan.window_closes_at
    if deploy_at < now - _NOTICE_SLACK:
        raise RunSettingsError(f"deploy_at {deploy_at.isoformat()} is in the past")
    # The window and the notice hold at every time_scale: a rehearsal compresses the
    # timeline from now on, it does not move the window nor shorten the notice it owes.
    if deploy_at > closes:
        raise RunSettingsError(
            f"deploy_at {deploy_at.isoformat()} is outside the deployment window, which closes "
            f"{closes.isoformat()} ({plan.step(StepKind.WAIT_FOR_WINDOW).basis.render()})"
        )
    if deploy_at - now < lead - _NOTICE_SLACK and not reason:
        raise RunSettingsError(
            f"deploy_at {deploy_at.isoformat()} leaves "
            f"{format_seconds((deploy_at - now).total_seconds())} of notice; the contract asks "
            f"for {format_seconds(lead.total_seconds())} "
            f"({plan.step(StepKind.NOTICE).basis.render()}). Give an emergency_reason to deploy "
            "with less notice; it is recorded and announced."
        )
    # Only answers the trigger wrote are used; none given (or "") means: ask a person.
    answers = Answers(
        go_no_go=str(conf.get("answer_go_no_go") or "").strip(),
        user_issues=str(conf.get("answer_user_issues") or "").strip(),
        handover=str(conf.get("answer_handover") or "").strip(),
    )
    return RunSettings(deploy_at, release, scale, reason, answers, closes, lead)
