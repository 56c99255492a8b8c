"""The team's first real contract, typed value by value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.contract import Contract, load_contract
from handoff.contract.model import (
    Anchor,
    CommunicationKind,
    ContractForm,
    ImpactLevel,
    MetricKind,
    WindowKind,
)
from handoff.contract.quantities import Bound, Unit
from tests.conftest import SEED


@pytest.fixture(scope="module")
def seed() -> Contract:
    return load_contract(SEED)


def test_seed_file_is_the_handed_over_bytes() -> None:
    shared = SEED.parent.parent.parent.parent / "shared" / "handoffs" / SEED.name
    if shared.is_file():
        assert SEED.read_bytes() == shared.read_bytes()
    assert "Â±10%".encode() in SEED.read_bytes()


def test_header(seed: Contract) -> None:
    assert seed.handoff_id == "PROD-DEPLOYMENT-001"
    assert seed.title == "Production Deployment"
    assert seed.sender.name == "SPARC Orchestrator"
    assert [p.name for p in seed.recipients] == ["SPARC SRE Engineer"]
    assert seed.timestamp == datetime(2025, 10, 6, 10, 40, tzinfo=UTC)
    assert seed.source.form is ContractForm.MARKDOWN
    assert seed.source.id_line == 7
    assert len(seed.source.sha256) == 64


def test_success_metrics(seed: Contract) -> None:
    deploy = seed.metric(MetricKind.DEPLOYMENT_TIME)
    downtime = seed.metric(MetricKind.DOWNTIME)
    errors = seed.metric(MetricKind.ERROR_RATE)
    performance = seed.metric(MetricKind.PERFORMANCE)
    assert deploy and deploy.threshold
    assert (deploy.threshold.bound, deploy.threshold.duration) == (
        Bound.AT_MOST,
        timedelta(minutes=60),
    )
    assert downtime and downtime.threshold
    assert downtime.threshold.duration == timedelta(0)
    assert errors and errors.threshold
    assert (errors.threshold.bound, errors.threshold.value, errors.threshold.unit) == (
        Bound.AT_MOST,
        1.0,
        Unit.PERCENT,
    )
    # The seed's doubly-encoded "Â±10%" is repaired to ±10 %.
    assert performance and performance.threshold
    assert (performance.threshold.bound, performance.threshold.value) == (Bound.TOLERANCE, 10.0)
    assert performance.text == "All targets maintained (±10% tolerance)"


def test_rollback_target_and_performance_targets(seed: Contract) -> None:
    assert seed.rollback_target is not None
    assert seed.rollback_target.threshold.duration == timedelta(minutes=30)
    assert seed.rollback_target.line == 53
    targets = {t.name: t.threshold for t in seed.performance_targets}
    assert targets["dashboard loads"].duration == timedelta(seconds=3)
    assert targets["AI optimization"].duration == timedelta(seconds=2)
    assert all(t.bound is Bound.AT_MOST for t in targets.values())


def test_communication_plan(seed: Contract) -> None:
    notice = seed.message(CommunicationKind.PRE_DEPLOY_NOTICE)
    all_clear = seed.message(CommunicationKind.ALL_CLEAR)
    assert notice and (notice.anchor, notice.offset) == (Anchor.BEFORE_DEPLOY, timedelta(hours=24))
    assert all_clear and (all_clear.anchor, all_clear.offset) == (
        Anchor.AFTER_DEPLOY,
        timedelta(hours=1),
    )
    kinds = [e.kind for e in seed.communication_plan]
    assert kinds == [
        CommunicationKind.PRE_DEPLOY_NOTICE,
        CommunicationKind.STATUS_UPDATES,
        CommunicationKind.ALL_CLEAR,
        CommunicationKind.ESCALATION,
        CommunicationKind.ROLLBACK,
    ]


def test_timeline(seed: Contract) -> None:
    window = seed.window(WindowKind.DEPLOYMENT_WINDOW)
    validation = seed.window(WindowKind.VALIDATION_PERIOD)
    monitoring = seed.window(WindowKind.MONITORING_PERIOD)
    assert window and (window.anchor, window.duration) == (
        Anchor.AFTER_ACCEPTANCE,
        timedelta(hours=48),
    )
    assert validation and validation.duration == timedelta(hours=24)
    assert monitoring and monitoring.duration == timedelta(hours=72)
    handover = seed.window(WindowKind.HANDOVER)
    assert handover and handover.duration is None


def test_acceptance_criteria(seed: Contract) -> None:
    assert len(seed.acceptance_criteria) == 15
    assert seed.criterion_groups == (
        "Deployment Success Criteria",
        "Monitoring & Observability Criteria",
        "Rollback Readiness Criteria",
    )
    sizes = [sum(c.group == g for c in seed.acceptance_criteria) for g in seed.criterion_groups]
    assert sizes == [6, 5, 4]
    first = seed.acceptance_criteria[0]
    assert (first.name, first.text, first.checked, first.line) == (
        "Zero-Downtime Deployment",
        "Blue-green deployment executed successfully",
        False,
        38,
    )


def test_other_sections(seed: Contract) -> None:
    assert seed.objective.startswith("Execute production deployment of UX Phase 2")
    assert "253 acceptance criteria" in seed.context
    assert len(seed.inputs) == 7
    assert [a.group for a in seed.artifacts].count("Required Deliverables") == 5
    assert len(seed.dependencies) == 6
    assert len(seed.risks) == 5
    assert all(r.impact is ImpactLevel.LOW and r.mitigation for r in seed.risks)
    assert [g.name for g in seed.quality_gates][:2] == ["Completeness", "Accuracy"]
    # The closing sentence after the list is prose, not a seventh step.
    assert [s.name for s in seed.next_steps][-1] == "Handover"
    assert len(seed.next_steps) == 6
