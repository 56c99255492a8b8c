"""Derive a `DeploymentPlan` from a contract, its acceptance sidecar and its environment.

Every time and threshold comes from the contract when it states one; where it is silent the
project default (the canonical HANDOFF/V1 values) applies, and the plan says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handoff.acceptance import Acceptance, Environment
from handoff.contract.model import (
    CommunicationKind,
    Contract,
    MetricKind,
    WindowKind,
)
from handoff.contract.quantities import Bound, NamedTarget, Threshold, Unit, format_seconds
from handoff.plan.bindings import bind_checks
from handoff.plan.model import (
    DEFAULT,
    Basis,
    DeploymentPlan,
    OnFailure,
    PlannedThreshold,
    PlanStep,
    StepKind,
)


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)


DEFAULT_NOTICE_LEAD = _hours(24)
DEFAULT_ALL_CLEAR_AFTER = _hours(1)
DEFAULT_DEPLOY_WINDOW = _hours(48)
DEFAULT_VALIDATION_PERIOD = _hours(24)
DEFAULT_MONITORING_PERIOD = _hours(72)

_DEFAULT_THRESHOLDS: dict[MetricKind, Threshold] = {
    MetricKind.DEPLOYMENT_TIME: Threshold(Bound.AT_MOST, 3600, Unit.SECONDS, "60 minutes"),
    MetricKind.DOWNTIME: Threshold(Bound.EXACTLY, 0, Unit.SECONDS, "0 minutes"),
    MetricKind.ERROR_RATE: Threshold(Bound.AT_MOST, 1, Unit.PERCENT, "1%"),
    MetricKind.PERFORMANCE: Threshold(Bound.TOLERANCE, 10, Unit.PERCENT, "±10%"),
}
_DEFAULT_ROLLBACK = Threshold(Bound.AT_MOST, 1800, Unit.SECONDS, "30 minutes")


def _contract_basis(line: int) -> Basis:
    return Basis("contract", line)


def _message_offset(
    contract: Contract, kind: CommunicationKind, default: timedelta
) -> tuple[timedelta, Basis]:
    message = contract.message(kind)
    if message is not None and message.offset is not None:
        return message.offset, _contract_basis(message.line)
    return default, DEFAULT


def _window(contract: Contract, kind: WindowKind, default: timedelta) -> tuple[timedelta, Basis]:
    window = contract.window(kind)
    if window is not None and window.duration is not None:
        return window.duration, _contract_basis(window.line)
    return default, DEFAULT


def _thresholds(contract: Contract) -> tuple[PlannedThreshold, ...]:
    planned = []
    for kind, default in _DEFAULT_THRESHOLDS.items():
        metric = contract.metric(kind)
        if metric is not None and metric.threshold is not None:
            planned.append(
                PlannedThreshold(kind.value, metric.threshold, _contract_basis(metric.line))
            )
        else:
            planned.append(PlannedThreshold(kind.value, default, DEFAULT))
    if contract.rollback_target is not None:
        target = contract.rollback_target
        planned.append(
            PlannedThreshold("rollback time", target.threshold, _contract_basis(target.line))
        )
    else:
        planned.append(PlannedThreshold("rollback time", _DEFAULT_ROLLBACK, DEFAULT))
    return tuple(planned)


def _at(deploy_at: datetime | None, offset: timedelta | None) -> datetime | None:
    return deploy_at + offset if deploy_at is not None and offset is not None else None


def derive_plan(
    contract: Contract,
    acceptance: Acceptance | None = None,
    environment: Environment | None = None,
) -> DeploymentPlan:
    """Build the plan; without a sidecar, times stay relative to the (unknown) deploy time."""
    deploy_at = acceptance.deploy_at if acceptance else None
    lead, lead_basis = _message_offset(
        contract, CommunicationKind.PRE_DEPLOY_NOTICE, DEFAULT_NOTICE_LEAD
    )
    if acceptance is not None and acceptance.notice_lead is not None:
        lead, lead_basis = acceptance.notice_lead, Basis("sidecar notice_lead")
    all_clear, all_clear_basis = _message_offset(
        contract, CommunicationKind.ALL_CLEAR, DEFAULT_ALL_CLEAR_AFTER
    )
    window, window_basis = _window(contract, WindowKind.DEPLOYMENT_WINDOW, DEFAULT_DEPLOY_WINDOW)
    validation, validation_basis = _window(
        contract, WindowKind.VALIDATION_PERIOD, DEFAULT_VALIDATION_PERIOD
    )
    monitoring, monitoring_basis = _window(
        contract, WindowKind.MONITORING_PERIOD, DEFAULT_MONITORING_PERIOD
    )
    handover = contract.window(WindowKind.HANDOVER)
    closes = acceptance.accepted_at + window if acceptance else None

    def step(
        kind: StepKind,
        offset: timedelta | None,
        on_failure: OnFailure,
        basis: Basis,
        detail: str = "",
    ) -> PlanStep:
        return PlanStep(kind, offset, _at(deploy_at, offset), on_failure, basis, detail)

    zero = timedelta(0)
    steps = (
        step(
            StepKind.PREFLIGHT,
            None,
            OnFailure.STOP,
            DEFAULT,
            "contract, sidecar, connections, docker, router, live colour healthy",
        ),
        step(StepKind.NOTICE, -lead, OnFailure.RECORD, lead_basis),
        step(
            StepKind.WAIT_FOR_WINDOW,
            zero,
            OnFailure.WINDOW_MISSED,
            window_basis,
            f"window closes {format_seconds(window.total_seconds())} after acceptance",
        ),
        step(
            StepKind.DEPLOY,
            zero,
            OnFailure.ABORT,
            DEFAULT,
            "start the idle colour, wait until ready through the preview",
        ),
        step(
            StepKind.PRE_SWITCH_GATES,
            zero,
            OnFailure.ABORT,
            DEFAULT,
            "gates on the preview before any user sees the release",
        ),
        step(StepKind.SWITCH, zero, OnFailure.ROLLBACK, DEFAULT, "router runtime API, no reload"),
        step(
            StepKind.POST_SWITCH_VERIFY,
            zero,
            OnFailure.ROLLBACK,
            DEFAULT,
            "health, smoke, zero-downtime result, data integrity on live",
        ),
        step(StepKind.ALL_CLEAR, all_clear, OnFailure.ROLLBACK, all_clear_basis),
        step(
            StepKind.VALIDATION_PERIOD,
            validation,
            OnFailure.ROLLBACK,
            validation_basis,
            "deferrable watch",
        ),
        step(
            StepKind.MONITORING_PERIOD,
            monitoring,
            OnFailure.ROLLBACK,
            monitoring_basis,
            "deferrable watch",
        ),
        step(
            StepKind.HANDOVER,
            monitoring,
            OnFailure.ESCALATE,
            _contract_basis(handover.line) if handover else DEFAULT,
            "retire the old colour, final report",
        ),
        step(
            StepKind.ROLLBACK, None, OnFailure.ESCALATE, DEFAULT, "on any failure after the switch"
        ),
        step(StepKind.FINALIZE, None, OnFailure.NOTHING, DEFAULT, "run fails if a rollback ran"),
    )
    return DeploymentPlan(
        contract=contract,
        acceptance=acceptance,
        environment=environment,
        deploy_at=deploy_at,
        window_closes_at=closes,
        steps=steps,
        thresholds=_thresholds(contract),
        performance_targets=tuple(
            NamedTarget(t.name, t.threshold) for t in contract.performance_targets
        ),
        checks=bind_checks(contract.acceptance_criteria, acceptance),
    )
