"""The settings of one run: deploy time, release, rehearsal scale, emergency reason, answers.

They come from the trigger form (the run's conf), fall back to the sidecar, and are checked
against the contract: the deploy time must fall inside the window after acceptance, and a
deploy with less notice than the contract asks needs an emergency reason, which is recorded
and announced. Pure Python: the preflight task resolves them once and passes them on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from handoff.contract.quantities import format_seconds
from handoff.errors import HandoffError
from handoff.plan import DeploymentPlan, StepKind

# The largest compression a rehearsal may ask for (1 h -> 3.6 ms would be meaningless).
MAX_TIME_SCALE = 100_000.0
# A few minutes of slack so a run triggered "now" for a deploy "now + lead" is not refused.
_NOTICE_SLACK = timedelta(minutes=5)


class RunSettingsError(HandoffError):
    """The run's parameters contradict the contract or the sidecar."""


@dataclass(frozen=True)
class Answers:
    """Answers to the human gates, used in rehearsals instead of waiting for a person."""

    go_no_go: str = "approve"
    user_issues: str = "none reported"
    handover: str = "accept handover"


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
        return self.time_scale > 1

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


def resolve_run_settings(
    plan: DeploymentPlan, conf: Mapping[str, Any], now: datetime
) -> RunSettings:
    """Resolve and check a run's settings; raise `RunSettingsError` naming what is wrong."""
    acceptance = plan.acceptance
    if acceptance is None or plan.window_closes_at is None:
        raise RunSettingsError(f"{plan.handoff_id} is not accepted: no sidecar")
    scale = _time_scale(conf)
    lead = -(plan.step(StepKind.NOTICE).offset or timedelta(0))
    deploy_at = _deploy_at(conf, plan, now, lead)
    reason = str(conf.get("emergency_reason") or "").strip()
    release = str(conf.get("release") or "").strip() or acceptance.service.image
    closes = plan.window_closes_at
    rehearsal = scale > 1
    if deploy_at < now - _NOTICE_SLACK:
        raise RunSettingsError(f"deploy_at {deploy_at.isoformat()} is in the past")
    if not rehearsal and deploy_at > closes:
        raise RunSettingsError(
            f"deploy_at {deploy_at.isoformat()} is outside the deployment window, which closes "
            f"{closes.isoformat()} ({plan.step(StepKind.WAIT_FOR_WINDOW).basis.render()})"
        )
    if not rehearsal and deploy_at - now < lead - _NOTICE_SLACK and not reason:
        raise RunSettingsError(
            f"deploy_at {deploy_at.isoformat()} leaves "
            f"{format_seconds((deploy_at - now).total_seconds())} of notice; the contract asks "
            f"for {format_seconds(lead.total_seconds())} "
            f"({plan.step(StepKind.NOTICE).basis.render()}). Give an emergency_reason to deploy "
            "with less notice; it is recorded and announced."
        )
    # An answer given as "" means: wait for a person, even in a rehearsal.
    answers = Answers(
        go_no_go=str(conf.get("answer_go_no_go", Answers.go_no_go) or ""),
        user_issues=str(conf.get("answer_user_issues", Answers.user_issues) or ""),
        handover=str(conf.get("answer_handover", Answers.handover) or ""),
    )
    return RunSettings(deploy_at, release, scale, reason, answers, closes, lead)
