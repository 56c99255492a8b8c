"""The Mann-Whitney judge: a slower release fails, a same-speed one passes, too few is neither."""

from __future__ import annotations

import math
import random

import pytest

from handoff.analysis.baseline import BaselineVerdict, compare, hodges_lehmann


def latencies(seed: int, n: int, median_ms: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(math.log(median_ms / 1000), 0.25) for _ in range(n)]


def test_a_slower_release_fails() -> None:
    result = compare(latencies(1, 60, 130), latencies(2, 60, 100))
    assert result.outcome is BaselineVerdict.FAILED
    assert result.p_value is not None and result.p_value < 0.05
    assert result.shift_estimate is not None and 0.02 < result.shift_estimate < 0.045
    assert result.confidence == 0.95 and result.tolerance == 0.10


def test_a_same_speed_release_passes() -> None:
    result = compare(latencies(3, 60, 100), latencies(4, 60, 100))
    assert result.outcome is BaselineVerdict.PASSED
    assert "95% confidence" in result.reason and "+10%" in result.reason


def test_a_release_slower_within_the_tolerance_passes() -> None:
    result = compare(latencies(5, 80, 104), latencies(6, 80, 100), tolerance=0.10)
    assert result.outcome is BaselineVerdict.PASSED


def test_a_faster_release_passes() -> None:
    assert compare(latencies(7, 40, 60), latencies(8, 40, 100)).outcome is BaselineVerdict.PASSED


def test_too_few_samples_are_inconclusive() -> None:
    result = compare(latencies(9, 5, 500), latencies(10, 60, 100))
    assert result.outcome is BaselineVerdict.INCONCLUSIVE
    assert "at least 20" in result.reason and result.p_value is None


def test_nan_samples_are_inconclusive() -> None:
    release = [*latencies(11, 30, 100), math.nan]
    assert compare(release, latencies(12, 30, 100)).outcome is BaselineVerdict.INCONCLUSIVE


def test_known_values_of_the_u_test() -> None:
    # Exact test, no ties: release all above baseline (n=m=5) -> U = 25, p = 1/C(10,5).
    result = compare([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], tolerance=0.0, min_samples=5)
    assert result.u_statistic == 25
    assert result.p_value == pytest.approx(1 / 252)
    assert result.outcome is BaselineVerdict.FAILED
    # Interleaved samples: U = 15 of 25, p = P(U >= 15) = 0.3452 (exact distribution).
    result = compare([2, 4, 6, 8, 10], [1, 3, 5, 7, 9], tolerance=0.0, min_samples=5)
    assert result.u_statistic == 15
    assert result.p_value == pytest.approx(0.3452, abs=1e-4)


def test_hodges_lehmann_is_the_median_shift() -> None:
    assert hodges_lehmann([11, 12, 13], [1, 2, 3]) == 10


def test_confidence_and_tolerance_are_checked() -> None:
    with pytest.raises(ValueError, match="confidence"):
        compare([1.0] * 30, [1.0] * 30, confidence=1.0)
    with pytest.raises(ValueError, match="tolerance"):
        compare([1.0] * 30, [1.0] * 30, tolerance=-0.1)
