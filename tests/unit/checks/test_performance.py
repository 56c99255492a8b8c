"""Performance decisions: budget, baseline tolerance with a noise floor, error rate."""

from __future__ import annotations

from typing import Any

from handoff.checks.performance import Budget, LatencyStats, confirmed, judge, percentile, stats
from handoff.evidence import EvidenceStatus

BUDGET = Budget(p95_ms=2000, tolerance_pct=10, noise_floor_ms=25, error_rate_pct=1)


def latency(p95: float, errors: int = 0, requests: int = 100) -> LatencyStats:
    return LatencyStats(requests=requests, errors=errors, p50_ms=p95 / 2, p95_ms=p95, p99_ms=p95)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (
        50.0,
        95.0,
        99.0,
    )
    assert percentile([], 95) == 0.0
    summary = stats([10.0, 20.0, 30.0], errors=1)
    assert (summary.requests, summary.errors, summary.p95_ms) == (4, 1, 30.0)
    assert summary.error_rate_pct == 25.0


def test_within_budget_and_baseline_passes_with_the_numbers_in_the_summary() -> None:
    finding = judge("/api/optimize", latency(212), latency(205), BUDGET)
    assert finding.status is EvidenceStatus.PASSED
    assert finding.summary.startswith(
        "/api/optimize p95 212 ms <= budget 2000 ms, baseline 205 ms (+3.4 % <= 10 %)"
    )
    assert finding.measured["baseline_p95_ms"] == 205
    assert finding.thresholds["p95_budget_ms"] == 2000


def test_over_budget_fails() -> None:
    finding = judge("/", latency(3500), latency(3400), BUDGET)
    assert finding.failed and "> budget 2000 ms" in finding.summary


def test_slower_than_baseline_beyond_tolerance_and_noise_floor_fails() -> None:
    finding = judge("/", latency(304), latency(3), BUDGET)
    assert finding.failed
    assert "slower than the live colour" in finding.summary
    assert finding.measured["change_pct"] > 10


def test_jitter_at_millisecond_latencies_is_not_a_regression() -> None:
    # +50 % but only 2 ms slower: within the noise floor.
    finding = judge("/", latency(6), latency(4), BUDGET)
    assert finding.status is EvidenceStatus.PASSED
    assert "noise floor" in finding.summary


def test_faster_than_baseline_passes() -> None:
    assert judge("/", latency(100), latency(400), BUDGET).status is EvidenceStatus.PASSED


def test_error_rate_over_the_contract_limit_fails() -> None:
    finding = judge("/", latency(10, errors=2), latency(10), BUDGET)
    assert finding.failed and "errors 2/100 (2.0 % > 1 %)" in finding.summary


def test_without_a_live_colour_only_the_budget_applies() -> None:
    finding = judge("/", latency(100), None, BUDGET)
    assert finding.status is EvidenceStatus.PASSED
    assert "no baseline" in finding.summary


def measurements(*pairs: tuple[float, float]) -> tuple[list[tuple[float, float]], Any]:
    """Return a measure_once that yields (preview p95, live p95) pairs in turn, and its log."""
    calls: list[tuple[float, float]] = []
    queue = list(pairs)

    def measure_once() -> tuple[LatencyStats, LatencyStats | None]:
        preview, live = queue.pop(0)
        calls.append((preview, live))
        return latency(preview), latency(live)

    return calls, measure_once


def test_a_burst_of_load_is_measured_again_and_passes() -> None:
    calls, measure_once = measurements((163, 85), (20, 18))
    finding = confirmed("/api/optimize", measure_once, BUDGET, attempts=3)
    assert finding.status is EvidenceStatus.PASSED and len(calls) == 2
    assert finding.measured["attempts"] == 2 and finding.measured["attempt_p95_ms"] == [163, 20]
    assert finding.summary.endswith("(attempt 2 of 3)")


def test_a_slow_release_fails_every_attempt() -> None:
    calls, measure_once = measurements((318, 4), (320, 5), (316, 4))
    finding = confirmed("/", measure_once, BUDGET, attempts=3)
    assert finding.failed and len(calls) == 3
    assert finding.measured["attempt_p95_ms"] == [318, 320, 316]
    assert finding.thresholds["attempts"] == 3


def test_a_passing_endpoint_is_measured_once() -> None:
    calls, measure_once = measurements((5, 5))
    finding = confirmed("/", measure_once, BUDGET, attempts=3)
    assert finding.status is EvidenceStatus.PASSED and len(calls) == 1
    assert "attempt" not in finding.summary


def sampled(latencies: list[float]) -> LatencyStats:
    from handoff.checks.performance import stats

    return stats(latencies, 0)


def test_the_mann_whitney_judge_fails_a_slower_release_and_passes_a_same_speed_one() -> None:
    import random

    from handoff.checks.performance import Budget, judge

    rng = random.Random(7)
    budget = Budget(p95_ms=1000, tolerance_pct=10, noise_floor_ms=5, error_rate_pct=1)
    baseline = sampled([rng.gauss(40, 4) for _ in range(200)])
    same = sampled([rng.gauss(40, 4) for _ in range(200)])
    slower = sampled([rng.gauss(70, 4) for _ in range(200)])
    passed = judge("/api", same, baseline, budget)
    failed = judge("/api", slower, baseline, budget)
    assert not passed.failed and "Mann-Whitney: no evidence" in passed.summary, passed.summary
    assert failed.failed and "slower than the live colour" in failed.summary, failed.summary
    assert failed.measured["mann_whitney_p"] < 0.05 and failed.measured["median_shift_ms"] > 25
    assert passed.measured["mann_whitney_confidence"] == 0.95


def test_too_few_samples_leave_the_p95_rule_to_decide() -> None:
    from handoff.checks.performance import Budget, judge

    budget = Budget(p95_ms=1000, tolerance_pct=10, noise_floor_ms=5, error_rate_pct=1)
    finding = judge("/api", sampled([90.0, 91.0]), sampled([40.0, 41.0]), budget)
    assert "Mann-Whitney inconclusive" in finding.summary and finding.failed
