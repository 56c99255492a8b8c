"""Verdicts: table-driven, from measurements to passed, failed, inconclusive or error."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

from handoff.analysis.verdict import (
    Action,
    AnalysisSpec,
    AnalysisState,
    Condition,
    InconclusivePolicy,
    Measurement,
    Operator,
    Phase,
    Status,
    measure,
    verdict,
)

ERROR_RATE = AnalysisSpec(
    metric="router_error_rate",
    promql="x",
    condition=Condition(Operator.LT, 0.01),
    min_samples=50,
    failure_limit=1,
    consecutive_error_limit=2,
)


@pytest.mark.parametrize(
    ("value", "samples", "error", "phase", "why"),
    [
        (0.0, 500, None, Phase.SUCCESSFUL, "meets < 0.01"),
        (0.02, 500, None, Phase.FAILED, "misses < 0.01"),
        (0.0, 3, None, Phase.INCONCLUSIVE, "3 samples, fewer than the minimum 50"),
        (0.0, None, None, Phase.INCONCLUSIVE, "no samples"),
        (math.nan, 500, None, Phase.INCONCLUSIVE, "value is NaN"),
        (math.inf, 500, None, Phase.INCONCLUSIVE, "value is +Inf"),
        (-math.inf, 500, None, Phase.INCONCLUSIVE, "value is -Inf"),
        (None, 500, None, Phase.INCONCLUSIVE, "empty result"),
        (0.5, math.nan, None, Phase.INCONCLUSIVE, "fewer than the minimum"),
        (None, None, "unreachable: refused", Phase.ERROR, "query failed: unreachable"),
    ],
)
def test_one_measurement(
    value: float | None, samples: float | None, error: str | None, phase: Phase, why: str
) -> None:
    m = measure(ERROR_RATE, 1.0, value, samples, error)
    assert m.phase is phase
    assert why in m.reason


def test_a_failed_low_traffic_value_is_inconclusive_not_failed() -> None:
    # 1 error in 3 requests is a 33 % error rate, and proves nothing.
    assert measure(ERROR_RATE, 1.0, 0.33, 3).phase is Phase.INCONCLUSIVE


def ms(*phases: str) -> list[Measurement]:
    return [Measurement(float(i), Phase(p), None, None, p) for i, p in enumerate(phases)]


@dataclass(frozen=True)
class Case:
    name: str
    measurements: list[Measurement]
    finished: bool
    status: Status
    action: Action
    spec: AnalysisSpec = ERROR_RATE


CASES = [
    Case(
        "low traffic all window", ms(*["inconclusive"] * 5), True, Status.INCONCLUSIVE, Action.ASK
    ),
    Case("nothing measured", [], True, Status.INCONCLUSIVE, Action.ASK),
    Case("all good", ms(*["successful"] * 5), True, Status.PASSED, Action.PASS),
    Case("still running", ms("successful"), False, Status.RUNNING, Action.CONTINUE),
    Case(
        "one failure within the limit",
        ms("successful", "failed", "successful"),
        True,
        Status.PASSED,
        Action.PASS,
    ),
    Case(
        "failures over the limit fail early",
        ms("successful", "failed", "failed"),
        False,
        Status.FAILED,
        Action.BREACH,
    ),
    Case(
        "errors in a row over the limit",
        ms("successful", "error", "error", "error"),
        False,
        Status.ERROR,
        Action.BREACH,
    ),
    Case(
        "errors not in a row stay within the limit",
        ms("error", "error", "successful", "error", "error", "successful"),
        True,
        Status.PASSED,
        Action.PASS,
    ),
    Case(
        "one inconclusive over a zero limit",
        ms("successful", "inconclusive", "successful"),
        True,
        Status.INCONCLUSIVE,
        Action.ASK,
    ),
    Case(
        "inconclusive within a limit of two",
        ms("successful", "inconclusive", "inconclusive"),
        True,
        Status.PASSED,
        Action.PASS,
        AnalysisSpec("m", "x", Condition(Operator.LT, 1), inconclusive_limit=2),
    ),
    Case(
        "policy extend",
        ms("inconclusive"),
        True,
        Status.INCONCLUSIVE,
        Action.EXTEND,
        AnalysisSpec(
            "m", "x", Condition(Operator.LT, 1), on_inconclusive=InconclusivePolicy.EXTEND
        ),
    ),
    Case(
        "policy breach",
        ms("inconclusive"),
        True,
        Status.INCONCLUSIVE,
        Action.BREACH,
        AnalysisSpec(
            "m", "x", Condition(Operator.LT, 1), on_inconclusive=InconclusivePolicy.BREACH
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    result = verdict(case.spec, case.measurements, case.finished)
    assert (result.status, result.action) == (case.status, case.action)
    assert result.reasons and all(isinstance(r, str) for r in result.reasons)
    json.dumps(result.to_json())  # evidence is plain JSON


def test_inconclusive_verdict_names_its_policy() -> None:
    result = verdict(ERROR_RATE, ms("inconclusive"), True)
    assert result.policy == "on_inconclusive=ask"
    assert "more than the limit 0" in result.reasons[0]


def test_failed_verdict_quotes_the_values() -> None:
    measured = [measure(ERROR_RATE, float(i), 0.05, 500) for i in range(2)]
    result = verdict(ERROR_RATE, measured, False)
    assert result.status is Status.FAILED
    assert "0.05 misses < 0.01" in result.reasons[-1]


@pytest.mark.parametrize(
    ("op", "value", "held"),
    [
        (Operator.LT, 1, False),
        (Operator.LE, 1, True),
        (Operator.GT, 2, True),
        (Operator.GE, 0, False),
    ],
)
def test_operators(op: Operator, value: float, held: bool) -> None:
    assert Condition(op, 1).holds(value) is held


def test_a_threshold_must_be_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        Condition(Operator.LT, math.nan)


def test_state_survives_json_as_a_triggerer_restart_would() -> None:
    state = AnalysisState(ERROR_RATE, started_at=100.0)
    for i, (value, samples) in enumerate([(0.0, 500), (math.nan, 0), (0.02, 500)]):
        state = state.record(measure(ERROR_RATE, 100.0 + 30 * i, value, samples))
    text = json.dumps(state.to_json(), allow_nan=False)  # strict JSON: NaN as a string
    restored = AnalysisState.from_json(json.loads(text))
    assert restored.spec == state.spec
    assert [m.phase for m in restored.measurements] == [m.phase for m in state.measurements]
    assert math.isnan(restored.measurements[1].value or 0.0)
    assert restored.verdict(False) == state.verdict(False)
    assert restored.next_due() == 100.0 + 60 + ERROR_RATE.interval_s


def test_dropped_measurements_still_count() -> None:
    spec = AnalysisSpec("m", "x", Condition(Operator.LT, 1), failure_limit=1)
    state = AnalysisState(spec, 0.0, max_kept=3)
    for i, value in enumerate([5.0, 5.0, 0.0, 0.0, 0.0]):
        state = state.record(measure(spec, float(i), value))
    assert len(state.measurements) == 3 and state.dropped.failed == 2
    assert state.verdict(True).status is Status.FAILED


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        AnalysisSpec("m", "x", Condition(Operator.LT, 1), interval_s=0)
    with pytest.raises(ValueError, match=">= 0"):
        AnalysisSpec("m", "x", Condition(Operator.LT, 1), failure_limit=-1)
