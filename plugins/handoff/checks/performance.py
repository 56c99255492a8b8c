"""Performance: bounded synthetic load per endpoint, judged against its budget and a baseline.

The baseline is the live colour measured with the same load in rounds alternating with the
preview, so both see the same machine at the same moment. The release is compared with it by
a one-sided Mann-Whitney U test (as Kayenta does): slower than the baseline plus the
contract's tolerance at 95 % confidence (`handoff.analysis.baseline`), and by more than a
noise floor (the Hodges-Lehmann shift): at millisecond latencies a 10 % difference is
scheduler jitter, not a slower release. With too few samples for the test, the p95 rule
decides (p95 over the baseline by more than the tolerance and the floor), and the evidence
says the test was inconclusive. A
failing endpoint is measured again (``attempts`` in all) and fails only if every attempt
fails: on a busy shared machine one burst of load elsewhere must not abort a good release,
while a slow release is slow every time.
"""

from __future__ import annotations

import http.client
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from handoff.acceptance.sidecar import EndpointCheck, PerformanceSettings
from handoff.analysis.baseline import BaselineVerdict, Comparison, compare
from handoff.bluegreen.probe import connection
from handoff.checks.finding import Finding
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, Rule, SidecarSettings, needs
from handoff.evidence.model import EvidenceStatus

log = logging.getLogger(__name__)

# The confidence the release is held to against the baseline (stated in the evidence).
RANK_TEST_CONFIDENCE = 0.95


@dataclass(frozen=True)
class LatencyStats:
    """What a bounded load measured on one endpoint through one listener."""

    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # Every answered request's latency (ms), for the rank test; not part of the evidence.
    samples: tuple[float, ...] = field(default=(), repr=False, compare=False)

    @property
    def error_rate_pct(self) -> float:
        """Return the share of failed requests (no answer or 5xx), in percent."""
        return 100.0 * self.errors / self.requests if self.requests else 100.0


@dataclass(frozen=True)
class Budget:
    """The thresholds one endpoint is held to."""

    p95_ms: float
    tolerance_pct: float
    noise_floor_ms: float
    error_rate_pct: float


def percentile(values: list[float], pct: float) -> float:
    """Return the nearest-rank percentile of some values (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def stats(latencies_ms: list[float], errors: int) -> LatencyStats:
    """Summarise the latencies of the answered requests and the number of failures."""
    return LatencyStats(
        requests=len(latencies_ms) + errors,
        errors=errors,
        p50_ms=round(percentile(latencies_ms, 50), 1),
        p95_ms=round(percentile(latencies_ms, 95), 1),
        p99_ms=round(percentile(latencies_ms, 99), 1),
        samples=tuple(latencies_ms),
    )


def measure(
    host: str, port: int, path: str, requests: int, connections: int, timeout: float = 10.0
) -> LatencyStats:
    """Send exactly ``requests`` GETs over ``connections`` keep-alive connections."""
    return stats(*_sample(host, port, path, requests, connections, timeout))


def measure_against_baseline(
    host: str,
    preview_port: int,
    live_port: int,
    path: str,
    requests: int,
    connections: int,
    rounds: int = 5,
    live_tls: tuple[str, ssl.SSLContext] | None = None,
) -> tuple[LatencyStats, LatencyStats]:
    """Measure the preview and the live baseline in alternating rounds; return (preview, live).

    Alternating makes both see the same machine: a burst of load elsewhere during the run
    slows both, instead of whichever happened to be measured at that moment. ``live_tls``:
    live terminates TLS (keep-alive connections: the handshake is paid once per connection).
    """
    samples: dict[int, tuple[list[float], int]] = {preview_port: ([], 0), live_port: ([], 0)}
    for round_number in range(rounds):
        share = requests // rounds + (1 if round_number < requests % rounds else 0)
        for port in (live_port, preview_port):
            tls = live_tls if port == live_port else None
            latencies, errors = _sample(host, port, path, share, connections, tls=tls)
            kept, failed = samples[port]
            samples[port] = (kept + latencies, failed + errors)
    return stats(*samples[preview_port]), stats(*samples[live_port])


def _sample(
    host: str,
    port: int,
    path: str,
    requests: int,
    connections: int,
    timeout: float = 10.0,
    tls: tuple[str, ssl.SSLContext] | None = None,
) -> tuple[list[float], int]:
    """Return the latencies (ms) of the answered requests and the number that failed."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [requests]

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def worker() -> None:
        nonlocal errors
        conn = connection(host, port, timeout, tls)
        while take():
            started = time.monotonic()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status < 500
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = connection(host, port, timeout, tls)
            elapsed_ms = (time.monotonic() - started) * 1000.0
            with lock:
                if ok:
                    latencies.append(elapsed_ms)
                else:
                    errors += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(max(1, connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def judge(
    path: str, measured: LatencyStats, baseline: LatencyStats | None, budget: Budget
) -> Finding:
    """Decide one endpoint: p95 within budget, error rate within limit, no regression."""
    problems = []
    parts = [f"{path} p95 {measured.p95_ms:g} ms"]
    if measured.p95_ms <= budget.p95_ms:
        parts[0] += f" <= budget {budget.p95_ms:g} ms"
    else:
        parts[0] += f" > budget {budget.p95_ms:g} ms"
        problems.append("over budget")
    rank = None
    if baseline is None:
        parts.append("no baseline (nothing live)")
    else:
        said, regressed, rank = against_baseline(measured, baseline, budget)
        parts += said
        if regressed:
            problems.append("slower than the live colour")
    error_ok = measured.error_rate_pct <= budget.error_rate_pct
    parts.append(
        f"errors {measured.errors}/{measured.requests} "
        f"({measured.error_rate_pct:.1f} % {'<=' if error_ok else '>'} {budget.error_rate_pct:g} %)"
    )
    if not error_ok:
        problems.append("error rate over limit")
    status = EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED
    summary = ", ".join(parts) + (f": {', '.join(problems)}" if problems else "")
    measured_values: dict[str, object] = {
        "path": path,
        "requests": measured.requests,
        "errors": measured.errors,
        "error_rate_pct": round(measured.error_rate_pct, 2),
        "p50_ms": measured.p50_ms,
        "p95_ms": measured.p95_ms,
        "p99_ms": measured.p99_ms,
    }
    if baseline is not None:
        measured_values.update(
            baseline_p50_ms=baseline.p50_ms,
            baseline_p95_ms=baseline.p95_ms,
            baseline_p99_ms=baseline.p99_ms,
            change_pct=round(_change_pct(measured.p95_ms, baseline.p95_ms), 1),
        )
        if rank is not None and rank.p_value is not None:
            measured_values.update(
                mann_whitney_p=round(rank.p_value, 4),
                mann_whitney_confidence=rank.confidence,
                median_shift_ms=round(rank.shift_estimate or 0.0, 1),
            )
    return Finding(
        status,
        summary,
        measured_values,
        {
            "p95_budget_ms": budget.p95_ms,
            "tolerance_pct": budget.tolerance_pct,
            "noise_floor_ms": budget.noise_floor_ms,
            "error_rate_pct": budget.error_rate_pct,
        },
    )


def against_baseline(
    measured: LatencyStats, baseline: LatencyStats, budget: Budget
) -> tuple[list[str], bool, Comparison | None]:
    """Return what the comparison with the baseline says, whether it regressed, the test."""
    change = _change_pct(measured.p95_ms, baseline.p95_ms)
    slower_ms = measured.p95_ms - baseline.p95_ms
    regressed = change > budget.tolerance_pct and slower_ms > budget.noise_floor_ms
    said = []
    rank = rank_test(measured, baseline, budget)
    if rank is not None and rank.outcome is not BaselineVerdict.INCONCLUSIVE:
        shift = rank.shift_estimate or 0.0
        regressed = rank.outcome is BaselineVerdict.FAILED and shift > budget.noise_floor_ms
    if regressed:
        verdict = f"> {budget.tolerance_pct:g} %"
    elif change > budget.tolerance_pct:
        verdict = (
            f"> {budget.tolerance_pct:g} % but within the {budget.noise_floor_ms:g} ms noise floor"
        )
    else:
        verdict = f"<= {budget.tolerance_pct:g} %"
    said.append(f"baseline {baseline.p95_ms:g} ms ({change:+.1f} % {verdict})")
    if rank is not None and rank.outcome is not BaselineVerdict.INCONCLUSIVE:
        said.append(
            f"Mann-Whitney: {rank.reason}; median shift {rank.shift_estimate or 0.0:+.1f} ms "
            f"(noise floor {budget.noise_floor_ms:g} ms)"
        )
    elif rank is not None:
        said.append(f"Mann-Whitney inconclusive ({rank.reason}): the p95 rule decides")
    return said, regressed, rank


def rank_test(measured: LatencyStats, baseline: LatencyStats, budget: Budget) -> Comparison | None:
    """Return the Mann-Whitney comparison of the two latency samples (None: no samples)."""
    if not measured.samples or not baseline.samples:
        return None
    return compare(
        measured.samples,
        baseline.samples,
        confidence=RANK_TEST_CONFIDENCE,
        tolerance=budget.tolerance_pct / 100,
    )


def _change_pct(value: float, baseline: float) -> float:
    """Return how much slower ``value`` is than ``baseline``, in percent."""
    if baseline <= 0:
        return 0.0 if value <= 0 else 100.0
    return 100.0 * (value - baseline) / baseline


Measurement = tuple[LatencyStats, LatencyStats | None]


def confirmed(
    path: str, measure_once: Callable[[], Measurement], budget: Budget, attempts: int
) -> Finding:
    """Judge an endpoint, measuring again after a failure; fail only if every attempt fails."""
    p95s: list[float] = []
    finding: Finding | None = None
    for attempt in range(1, max(1, attempts) + 1):
        measured, baseline = measure_once()
        finding = judge(path, measured, baseline, budget)
        p95s.append(measured.p95_ms)
        if not finding.failed:
            break
        if attempt < attempts:
            log.info(
                "%s: attempt %s of %s failed, measuring again: %s",
                path,
                attempt,
                attempts,
                finding.summary,
            )
    assert finding is not None
    summary = finding.summary + (f" (attempt {len(p95s)} of {attempts})" if len(p95s) > 1 else "")
    return replace(
        finding,
        summary=summary,
        measured={**finding.measured, "attempts": len(p95s), "attempt_p95_ms": p95s},
        thresholds={**finding.thresholds, "attempts": attempts},
    )


SPEC = CheckSpec(
    kind=CheckKind.PERFORMANCE,
    rules=(Rule(120, ("performance",)), Rule(130, ("latency",))),
    phases=(CheckPhase.PRE_SWITCH,),
    settings=(
        SidecarSettings("endpoints", EndpointCheck, many=True),
        SidecarSettings("performance", PerformanceSettings),
    ),
    missing=needs(
        lambda acceptance: acceptance.checks.endpoints,
        "no endpoints with p95 budgets in the sidecar",
    ),
    gates=(
        Gate(CheckPhase.PRE_SWITCH, "performance", "handoff.tasks.check_gates:performance_gate"),
    ),
)
