"""The deployment plan derived from contract, sidecar and environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.catalog import load_handoff
from handoff.contract import load_contract
from handoff.plan import CheckKind, CheckPhase, DeploymentPlan, StepKind, derive_plan
from handoff.plan.model import OnFailure
from tests.conftest import FIXTURES, SEED

VALID = FIXTURES / "contracts" / "valid"


@pytest.fixture(scope="module")
def seed_plan() -> DeploymentPlan:
    handoff = load_handoff(SEED)
    assert handoff.plan is not None
    return handoff.plan


def test_steps_follow_the_design_timeline(seed_plan: DeploymentPlan) -> None:
    assert [s.kind for s in seed_plan.steps] == list(StepKind)
    offsets = {s.kind: s.offset for s in seed_plan.steps}
    assert offsets[StepKind.NOTICE] == -timedelta(hours=24)
    assert offsets[StepKind.ALL_CLEAR] == timedelta(hours=1)
    assert offsets[StepKind.VALIDATION_PERIOD] == timedelta(hours=24)
    assert offsets[StepKind.MONITORING_PERIOD] == timedelta(hours=72)
    assert seed_plan.step(StepKind.NOTICE).basis.line == 109
    assert seed_plan.step(StepKind.SWITCH).on_failure is OnFailure.ROLLBACK
    assert seed_plan.step(StepKind.PRE_SWITCH_GATES).on_failure is OnFailure.ABORT
    assert seed_plan.step(StepKind.NOTICE).on_failure is OnFailure.RECORD


def test_no_deploy_at_means_relative_times(seed_plan: DeploymentPlan) -> None:
    assert seed_plan.deploy_at is None
    assert all(step.at is None for step in seed_plan.steps)
    assert seed_plan.window_closes_at == datetime(2026, 11, 29, 9, tzinfo=UTC)


def test_absolute_times_when_deploy_at_is_known() -> None:
    handoff = load_handoff(FIXTURES / "acceptance" / "handoffs" / "accepted.md")
    plan = handoff.plan
    assert plan is not None
    deploy = datetime(2026, 1, 3, 9, tzinfo=UTC)
    assert plan.step(StepKind.NOTICE).at == deploy - timedelta(hours=24)
    assert plan.step(StepKind.DEPLOY).at == deploy
    # This contract is silent on validation: the project default applies and says so.
    validation = plan.step(StepKind.VALIDATION_PERIOD)
    assert validation.at == deploy + timedelta(hours=24)
    assert validation.basis.render() == "project default"


def test_thresholds(seed_plan: DeploymentPlan) -> None:
    described = {t.name: (t.threshold.describe(), t.basis.line) for t in seed_plan.thresholds}
    assert described == {
        "deployment time": ("at most 60 min", 81),
        "downtime": ("exactly 0 s", 82),
        "error rate": ("at most 1 %", 83),
        "performance": ("within ±10 %", 84),
        "rollback time": ("at most 30 min", 53),
    }
    assert [t.name for t in seed_plan.performance_targets] == ["dashboard loads", "AI optimization"]


def test_every_seed_criterion_is_bound_to_a_check(seed_plan: DeploymentPlan) -> None:
    kinds = {b.criterion.name: b.kind for b in seed_plan.checks}
    assert kinds == {
        "Zero-Downtime Deployment": CheckKind.ZERO_DOWNTIME,
        "Health Checks": CheckKind.HEALTH,
        "Performance Validation": CheckKind.PERFORMANCE,
        "Security Verification": CheckKind.SECURITY,
        "Accessibility Compliance": CheckKind.ACCESSIBILITY,
        "User Acceptance": CheckKind.SMOKE,
        "Application Monitoring": CheckKind.MONITORING,
        "Error Tracking": CheckKind.MONITORING,
        "Performance Monitoring": CheckKind.MONITORING,
        "User Analytics": CheckKind.MONITORING,
        "Security Monitoring": CheckKind.MONITORING,
        "Rollback Procedures": CheckKind.ROLLBACK_READINESS,
        "Data Integrity": CheckKind.DATA_INTEGRITY,
        "Configuration Management": CheckKind.CONFIGURATION,
        "Communication Plan": CheckKind.COMMUNICATION,
    }
    pre_switch = {b.criterion.name for b in seed_plan.checks_in(CheckPhase.PRE_SWITCH)}
    assert pre_switch == {
        "Health Checks",
        "Performance Validation",
        "Security Verification",
        "Accessibility Compliance",
        "User Acceptance",
    }
    assert all(not b.note for b in seed_plan.checks)


def test_unknown_criterion_is_not_verified_and_missing_settings_are_noted() -> None:
    plan = derive_plan(load_contract(VALID / "h3_sections_missing.md"))
    by_name = {b.criterion.name: b for b in plan.checks}
    assert by_name["Customer Delight"].kind is CheckKind.NOT_VERIFIED
    assert by_name["Customer Delight"].phases == ()
    handoff = load_handoff(FIXTURES / "acceptance" / "handoffs" / "accepted.md")
    assert handoff.plan is not None and handoff.plan.checks == ()


def test_contract_values_override_defaults() -> None:
    plan = derive_plan(load_contract(VALID / "whole_file.json"))
    assert plan.step(StepKind.NOTICE).offset == -timedelta(hours=6)
    assert plan.step(StepKind.ALL_CLEAR).offset == timedelta(minutes=30)
    assert plan.step(StepKind.MONITORING_PERIOD).offset == timedelta(hours=36)
    assert plan.threshold("rollback time").threshold.duration == timedelta(minutes=10)
    assert plan.threshold("error rate").threshold.value == 2
