"""Performance Monitoring judged from what Prometheus holds (handoff.checks.observed)."""

from __future__ import annotations

from handoff.checks import observed
from handoff.evidence import EvidenceStatus

RESOURCES = {"green": {"cpu_cores": 0.01, "resident_bytes": 2.0**25}}


def test_a_path_scraped_without_a_p95_is_tracked_and_one_never_scraped_is_not() -> None:
    seen = observed.Observed(
        True,
        latency_paths={"/health": 0.002},
        latency_series=("/api/optimize", "/health"),
        resources=RESOURCES,
    )
    found = observed.performance(seen, ["/health", "/api/optimize"], ["green"])
    assert found.status is EvidenceStatus.PASSED
    assert "/api/optimize (scraped; no p95" in found.summary and "/health 2.0 ms" in found.summary
    missing = observed.performance(seen, ["/health", "/cart"], ["green"])
    assert missing.status is EvidenceStatus.FAILED
    assert "no latency series for /cart" in missing.summary


def test_a_colour_without_both_resource_series_fails() -> None:
    seen = observed.Observed(True, latency_series=("/health",), resources={"green": {}})
    assert observed.performance(seen, ["/health"], ["green"]).failed
