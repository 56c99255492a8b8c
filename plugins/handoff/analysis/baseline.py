"""Release against baseline: a one-sided Mann-Whitney U test on latency samples (scipy).

The question, as Kayenta asks it: is the release slower than the baseline by more than the
tolerance? The baseline's samples are scaled by ``1 + tolerance`` and the test's alternative
is "release greater than the scaled baseline". A p-value under ``1 - confidence`` fails the
release; otherwise it passes (no evidence of a slowdown beyond the tolerance). Fewer samples
than the minimum on either side, or a sample that is not a finite number, is inconclusive.

The result states the confidence, the tolerance, both medians and the Hodges-Lehmann
estimate of the shift (the median of every release - baseline difference), so the evidence
says by how much, not only whether. scipy is imported when a comparison runs, not when this
module loads: the triggerer and the DAG processor import the package without paying for it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DEFAULT_CONFIDENCE = 0.95
DEFAULT_TOLERANCE = 0.10
DEFAULT_MIN_SAMPLES = 20
#: Hodges-Lehmann needs every pairwise difference; above this many pairs, a sample of them.
MAX_PAIRS = 250_000


class BaselineVerdict(StrEnum):
    """What the comparison concluded."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Comparison:
    """The comparison's outcome and everything it rests on."""

    outcome: BaselineVerdict
    reason: str
    confidence: float
    tolerance: float
    release_n: int
    baseline_n: int
    min_samples: int
    u_statistic: float | None = None
    p_value: float | None = None
    release_median: float | None = None
    baseline_median: float | None = None
    shift_estimate: float | None = None
    method: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON data (the evidence of a baseline check)."""
        return {
            k: (v.value if isinstance(v, BaselineVerdict) else v) for k, v in vars(self).items()
        }


def compare(
    release: Sequence[float],
    baseline: Sequence[float],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    tolerance: float = DEFAULT_TOLERANCE,
    min_samples: int = DEFAULT_MIN_SAMPLES,
) -> Comparison:
    """Return whether the release is slower than the baseline by more than ``tolerance``."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence {confidence!r}: expected a value in [0.5, 1)")
    if not 0 <= tolerance < 10:
        raise ValueError(f"tolerance {tolerance!r}: expected a fraction >= 0 (0.10 for 10 %)")
    if min_samples < 3:
        raise ValueError(f"minimum sample count {min_samples!r}: expected at least 3")

    def result(outcome: BaselineVerdict, reason: str, **measured: Any) -> Comparison:
        return Comparison(
            outcome,
            reason,
            confidence,
            tolerance,
            len(release),
            len(baseline),
            min_samples,
            **measured,
        )

    bad = [v for v in (*release, *baseline) if not math.isfinite(v)]
    if bad:
        return result(
            BaselineVerdict.INCONCLUSIVE, f"{len(bad)} sample(s) are not finite (NaN or Inf)"
        )
    if min(len(release), len(baseline)) < min_samples:
        return result(
            BaselineVerdict.INCONCLUSIVE,
            f"{len(release)} release and {len(baseline)} baseline samples; at least "
            f"{min_samples} of each are needed",
        )

    from scipy.stats import mannwhitneyu  # heavy: loaded only when a comparison runs

    scaled = [v * (1 + tolerance) for v in baseline]
    test = mannwhitneyu(release, scaled, alternative="greater", method="auto")
    u, p = float(test.statistic), float(test.pvalue)
    measured = {
        "u_statistic": u,
        "p_value": p,
        "release_median": statistics.median(release),
        "baseline_median": statistics.median(baseline),
        "shift_estimate": hodges_lehmann(release, baseline),
        # auto: exact for small samples without ties, else the normal approximation with
        # tie and continuity corrections.
        "method": "scipy.stats.mannwhitneyu(alternative='greater', method='auto')",
    }
    alpha = 1 - confidence
    if p < alpha:
        return result(
            BaselineVerdict.FAILED,
            f"release slower than baseline +{tolerance:.0%}: p = {p:.3g} < {alpha:.3g} "
            f"at {confidence:.0%} confidence",
            **measured,
        )
    return result(
        BaselineVerdict.PASSED,
        f"no evidence the release is slower than baseline +{tolerance:.0%}: p = {p:.3g} "
        f">= {alpha:.3g} at {confidence:.0%} confidence",
        **measured,
    )


def hodges_lehmann(release: Sequence[float], baseline: Sequence[float]) -> float:
    """Return the median of the pairwise differences release - baseline (the shift)."""
    step_r = max(1, math.ceil(len(release) * len(baseline) / MAX_PAIRS))
    diffs = [r - b for r in release[::step_r] for b in baseline]
    return statistics.median(diffs)
