"""A kind that declares only a `measure` runs as a gate: probe, record, fail on a failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from handoff.catalog import load_handoff
from handoff.checks import Finding
from handoff.checks.http import Exchange
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Probe, Rule, measured_gate
from handoff.evidence import EvidenceStatus
from handoff.tasks import check_gates
from tests.conftest import SEED


def _measure(probe: Probe) -> Sequence[Finding]:
    answer = probe.get("/robots.txt")
    status = EvidenceStatus.PASSED if answer.status == 200 else EvidenceStatus.FAILED
    return [Finding(status, f"{probe.listener}: /robots.txt answered {answer.status}")]


SPEC = CheckSpec(
    kind=CheckKind.SECURITY,  # any registered kind; the spec is what the gate reads
    rules=(Rule(1, ("crawler",)),),
    phases=(CheckPhase.PRE_SWITCH,),
    gates=(measured_gate(CheckPhase.PRE_SWITCH, "robots", CheckKind.SECURITY, "preview"),),
    measure=_measure,
)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    records: list[Any] = []
    handoff = load_handoff(SEED)
    monkeypatch.setattr(check_gates, "handoff_from", lambda _path: handoff)
    monkeypatch.setattr(check_gates, "spec_of", lambda kind: SPEC if kind is SPEC.kind else None)
    monkeypatch.setattr(
        check_gates, "record", lambda _h, items, target: records.append((items, target))
    )
    return records


def test_a_measured_gate_records_its_findings_on_the_listener(
    recorded: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int, str]] = []

    def answer(host: str, port: int, path: str) -> Exchange:
        asked.append((host, port, path))
        return Exchange(200, 0.01)

    monkeypatch.setattr(check_gates, "exchange", answer)
    result = check_gates.measured_gate("seed.md", **SPEC.gates[0].kwargs)
    assert result == {"findings": ["preview: /robots.txt answered 200"]}
    [(items, target)] = recorded
    assert target == "preview" and items[0][0] is CheckKind.SECURITY
    handoff = load_handoff(SEED)
    assert handoff.environment is not None
    router = handoff.environment.router
    assert asked == [(router.host, router.preview_port, "/robots.txt")]


def test_a_failed_finding_fails_the_gate(
    recorded: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_gates, "exchange", lambda *_a: Exchange(404, 0.01))
    with pytest.raises(AirflowFailException, match="answered 404"):
        check_gates.measured_gate("seed.md", **SPEC.gates[0].kwargs)
    assert recorded  # recorded before failing: the report shows what failed


def test_a_kind_without_measure_is_refused(recorded: list[Any]) -> None:
    with pytest.raises(AirflowFailException, match="declares nothing to measure"):
        check_gates.measured_gate("seed.md", CheckKind.HEALTH.value, "preview")
