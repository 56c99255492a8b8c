"""Window statistics and the breach decision, on hand-made probe samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from handoff.watch.evaluate import (
    BreachKind,
    LatencyBudget,
    Sample,
    Verdict,
    WatchThresholds,
    WindowEnd,
    WindowEvaluator,
    percentile,
)
from handoff.watch.story import describe_duration, story

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(i: int) -> datetime:
    return T0 + timedelta(seconds=i)


def ok(i: int, path: str = "/api/status", ms: float = 10.0) -> Sample:
    return Sample(at(i), path, 200, ms)


def err(i: int, path: str = "/api/status", status: int = 500) -> Sample:
    return Sample(at(i), path, status, 5.0)


def down(i: int, path: str = "/health") -> Sample:
    return Sample(at(i), path, 0, 1.0, error="ConnectError: connection refused")


def feed(evaluator: WindowEvaluator, samples: list[Sample]) -> WindowEvaluator:
    for sample in samples:
        evaluator.add(sample)
    return evaluator


def evaluator(**limits: object) -> WindowEvaluator:
    return WindowEvaluator("validation period", "/health", WatchThresholds(**limits))  # type: ignore[arg-type]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0
    assert percentile([], 95) is None


def test_healthy_window_completes_with_per_path_statistics() -> None:
    samples = []
    for i in range(30):
        samples += [ok(i, "/health", 2.0), ok(i, "/api/status", float(i + 1))]
    ev = feed(evaluator(), samples)
    verdict = ev.verdict()
    assert verdict.outcome is WindowEnd.COMPLETED
    assert verdict.breach is None
    s = verdict.summary
    assert (s.samples, s.errors, s.error_rate_pct, s.error_rate_judged) == (60, 0, 0.0, True)
    assert (s.health_probes, s.health_failures) == (30, 0)
    status = next(p for p in s.paths if p.path == "/api/status")
    assert (status.p50_ms, status.p95_ms, status.max_ms) == (15.0, 29.0, 30.0)
    assert s.first_sample_at == at(0) and s.last_sample_at == at(29)
    assert s.first_breach_at is None


def test_error_rate_is_not_judged_before_the_minimum_sample_count() -> None:
    ev = feed(evaluator(min_samples=20), [err(i) for i in range(19)])
    assert ev.breach is None
    assert not ev.summary().error_rate_judged
    breach = ev.add(err(19))
    assert breach is not None and breach.kind is BreachKind.ERROR_RATE
    assert breach.measured == 100.0


def test_error_rate_reaching_the_limit_breaches_with_the_evidence() -> None:
    # 1 error in 100 probes is 1 %: the contract asks for "< 1 %", so this is a breach.
    samples = [ok(i) for i in range(99)] + [err(99)]
    ev = feed(evaluator(min_samples=100, error_rate_limit_pct=1.0), samples)
    breach = ev.breach
    assert breach is not None
    assert breach.kind is BreachKind.ERROR_RATE
    assert (breach.measured, breach.threshold, breach.at) == (1.0, 1.0, at(99))
    assert "error rate 1.00% (1 of the first 100 probes)" in breach.reason
    assert "HTTP 500 on /api/status" in breach.reason
    assert ev.summary().first_breach_at == at(99)


def test_error_rate_below_the_limit_holds() -> None:
    samples = [ok(i) for i in range(199)] + [err(199)]
    ev = feed(evaluator(min_samples=100, error_rate_limit_pct=1.0), samples)
    assert ev.breach is None
    assert ev.verdict().summary.error_rate_pct == 0.5


def test_a_zero_limit_breaches_on_the_first_judged_error_only() -> None:
    ev = feed(evaluator(min_samples=5, error_rate_limit_pct=0.0), [ok(i) for i in range(10)])
    assert ev.breach is None
    assert ev.add(err(10)) is not None


def test_sliding_window_forgets_old_errors() -> None:
    limits = {"min_samples": 10, "sliding_samples": 10, "error_rate_limit_pct": 25.0}
    # 2 errors in the first 10: 20 % < 25 %, then they slide out of the window.
    samples = [err(0), err(1)] + [ok(i) for i in range(2, 40)]
    ev = feed(evaluator(**limits), samples)
    assert ev.breach is None
    # 3 errors within the last 10 probes: 30 %.
    ev2 = feed(evaluator(**limits), [*samples, err(40), err(41), err(42)])
    assert ev2.breach is not None
    assert "(3 of the last 10 probes)" in ev2.breach.reason
    # Cumulatively the same 43 probes are 5/43 = 11.6 %: under the limit.
    ev3 = feed(evaluator(min_samples=10, error_rate_limit_pct=25.0), [*samples, err(40)])
    assert ev3.breach is None


def test_client_errors_are_not_server_errors() -> None:
    ev = feed(evaluator(min_samples=5), [err(i, status=404) for i in range(10)])
    assert ev.breach is None
    assert ev.errors == 0


def test_consecutive_failed_health_probes_breach() -> None:
    ev = evaluator(max_health_failures=3, min_samples=1000)
    feed(ev, [down(0), down(1), ok(2, "/health"), down(3), down(4)])
    assert ev.breach is None  # the streak was broken by a healthy answer
    breach = ev.add(Sample(at(5), "/health", 503, 3.0))
    assert breach is not None and breach.kind is BreachKind.HEALTH
    assert breach.measured == 3 and breach.path == "/health"
    assert "3 consecutive failed health probes (limit 3)" in breach.reason
    assert "HTTP 503 on /health" in breach.reason
    s = ev.summary()
    assert (s.health_failures, s.longest_health_failure_streak) == (5, 3)


def test_connection_errors_count_as_errors_without_latency() -> None:
    ev = feed(evaluator(min_samples=1000), [down(0, "/api/status"), ok(1, "/api/status", 9.0)])
    path = ev.summary().paths[0]
    assert (path.samples, path.errors, path.p95_ms) == (2, 1, 9.0)
    assert "ConnectError: connection refused on /api/status" in (ev.summary().last_error or "")


def test_latency_budget_breaches_once_enough_answers_are_in() -> None:
    limits = {"latency": (LatencyBudget("/api/status", p95_ms=100.0),), "min_latency_samples": 20}
    slow = [ok(i, ms=150.0) for i in range(19)]
    ev = feed(evaluator(**limits), slow)
    assert ev.breach is None
    breach = ev.add(ok(19, ms=150.0))
    assert breach is not None and breach.kind is BreachKind.LATENCY_BUDGET
    assert (breach.measured, breach.threshold, breach.path) == (150.0, 100.0, "/api/status")
    assert "above its budget of 100 ms" in breach.reason


def test_latency_against_the_baseline_and_its_tolerance() -> None:
    budget = LatencyBudget("/api/status", baseline_p95_ms=100.0)
    limits = {"latency": (budget,), "latency_tolerance_pct": 10.0, "min_latency_samples": 10}
    within = feed(evaluator(**limits), [ok(i, ms=110.0) for i in range(30)])
    assert within.breach is None
    faster = feed(evaluator(**limits), [ok(i, ms=50.0) for i in range(30)])
    assert faster.breach is None  # a faster release is no regression
    slower = feed(evaluator(**limits), [ok(i, ms=111.0) for i in range(10)])
    assert slower.breach is not None
    assert slower.breach.kind is BreachKind.LATENCY_BASELINE
    assert slower.breach.threshold == pytest.approx(110.0)
    assert "more than 10% above its baseline of 100 ms" in slower.breach.reason


def test_only_the_first_breach_is_kept() -> None:
    ev = feed(evaluator(min_samples=5, max_health_failures=1), [err(i) for i in range(5)])
    first = ev.breach
    assert first is not None and first.kind is BreachKind.ERROR_RATE
    ev.add(down(6))
    assert ev.breach is first


def test_verdict_round_trips_through_json() -> None:
    limits = WatchThresholds(
        sliding_samples=50,
        latency=(LatencyBudget("/api/status", p95_ms=200.0, baseline_p95_ms=20.0),),
        latency_tolerance_pct=10.0,
    )
    ev = WindowEvaluator("monitoring period", "/health", limits)
    feed(ev, [ok(i, "/health") for i in range(10)] + [err(i) for i in range(10, 40)])
    verdict = ev.verdict()
    assert verdict.outcome is WindowEnd.BREACH
    payload = json.loads(json.dumps(verdict.to_event()))
    assert payload["status"] == "breach"
    assert payload["window"] == "monitoring period"
    assert payload["reason"] == verdict.breach.reason  # type: ignore[union-attr]
    assert Verdict.from_event(payload) == verdict
    completed = WindowEvaluator("w", "/health", WatchThresholds()).verdict()
    assert Verdict.from_event(json.loads(json.dumps(completed.to_event()))) == completed
    assert "reason" not in completed.to_event()


def test_thresholds_round_trip_and_reject_unknown_keys() -> None:
    limits = WatchThresholds(latency=(LatencyBudget("/x", p95_ms=5.0),))
    assert WatchThresholds.from_dict(json.loads(json.dumps(limits.to_dict()))) == limits
    with pytest.raises(ValueError, match=r"unknown watch threshold.*error_rate_pct"):
        WatchThresholds.from_dict({"error_rate_pct": 1.0})
    with pytest.raises(ValueError, match="latency budgets take path, p95_ms and baseline_p95_ms"):
        WatchThresholds.from_dict({"latency": [{"path": "/x", "p99_ms": 5.0}]})


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"error_rate_limit_pct": 101.0}, "error_rate_limit_pct must be 0..100"),
        ({"min_samples": 0}, "must be at least 1"),
        ({"sliding_samples": 5, "min_samples": 10}, "sliding_samples .5. must be at least"),
        ({"max_health_failures": 0}, "max_health_failures must be >= 1"),
        ({"latency_tolerance_pct": -1.0}, "latency_tolerance_pct must be >= 0"),
    ],
)
def test_invalid_thresholds_are_refused(limits: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WatchThresholds(**limits)  # type: ignore[arg-type]


def test_story_tells_measurements_thresholds_and_decision() -> None:
    limits = WatchThresholds(
        min_samples=10,
        latency=(LatencyBudget("/api/status", p95_ms=200.0),),
    )
    ev = WindowEvaluator("validation period", "/health", limits)
    feed(ev, [ok(i, "/health") for i in range(5)] + [ok(i) for i in range(5)] + [err(10)])
    lines = story(ev.verdict())
    text = "\n".join(lines)
    assert "measured 11 probes of 2 path(s)" in text
    assert "error rate 9.09% (1 of 11 probes failed" in text
    assert "limit < 1%" in text
    assert "/api/status: 6 probes, 1 errors, p50 10.0 ms" in text
    assert "p95 within its budget of 200 ms" in text
    assert lines[-1].startswith("decision: BREACH (error_rate)")
    quiet = story(WindowEvaluator("w", "/health", WatchThresholds()).verdict())
    assert "NOT JUDGED" in quiet[1]
    assert quiet[-1].startswith("decision: completed")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "24 h"), (259200, "72 h"), (5400, "90 min"), (24, "24 s"), (0.25, "250 ms")],
)
def test_durations_read_like_the_contract(seconds: float, text: str) -> None:
    assert describe_duration(timedelta(seconds=seconds)) == text
