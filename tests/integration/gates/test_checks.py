"""Every check against the real engine and router: a release that passes, one that fails.

Blue runs 1.0.0 live (the old colour); each test deploys a variant of 1.2.0 (the release
with the fault toggles) into green and
measures it through the preview listener (the old colour through live, as the gates do).
"""

from __future__ import annotations

import pytest

from handoff.bluegreen import Colour
from handoff.bluegreen.target import posture_from_inspection
from handoff.checks import Finding, accessibility, performance, security, smoke
from handoff.checks.http import exchange
from handoff.evidence import EvidenceStatus
from handoff.target import ColourPosture
from tests.integration.gates.conftest import DEBUG_PORT_RELEASE, SCANNER, Deploy, Service
from tests.support.demo import V3

pytestmark = pytest.mark.integration

BUDGET = performance.Budget(p95_ms=2000, tolerance_pct=10, noise_floor_ms=25, error_rate_pct=1)
JOURNEY = [
    smoke.Step("GET", "/", (200,), "dashboard"),
    smoke.Step("POST", "/api/records", (200, 201), None, {"key": "theme-dark"}),
    smoke.Step("GET", "/version", (200,)),
]


def perf(service: Service, path: str) -> performance.LatencyStats:
    return performance.measure(service.host, service.preview, path, 30, 2)


def against_baseline(
    service: Service, path: str
) -> tuple[performance.LatencyStats, performance.LatencyStats]:
    return performance.measure_against_baseline(
        service.host, service.preview, service.live, path, 30, 2
    )


# -- performance -------------------------------------------------------------------------


def test_performance_passes_for_a_release_as_fast_as_live(service: Service, deploy: Deploy) -> None:
    deploy(V3)
    finding = performance.judge(
        "/api/optimize", *against_baseline(service, "/api/optimize"), BUDGET
    )
    print(finding.summary)
    assert finding.status is EvidenceStatus.PASSED, finding.summary
    assert finding.measured["requests"] == 30 and finding.measured["errors"] == 0
    assert "Mann-Whitney: no evidence the release is slower" in finding.summary, finding.summary


def test_performance_fails_for_a_slow_release(service: Service, deploy: Deploy) -> None:
    deploy(V3, DEMO_MODE="slow", DEMO_LATENCY_MS="300")
    finding = performance.judge(
        "/api/optimize", *against_baseline(service, "/api/optimize"), BUDGET
    )
    print(finding.summary)
    assert finding.failed and "slower than the live colour" in finding.summary
    assert finding.measured["p95_ms"] >= 300 > finding.measured["baseline_p95_ms"]
    assert finding.measured["mann_whitney_p"] < 0.05 and finding.measured["median_shift_ms"] > 200
    tight = performance.Budget(p95_ms=250, tolerance_pct=10, noise_floor_ms=25, error_rate_pct=1)
    assert "> budget 250 ms" in performance.judge("/", perf(service, "/"), None, tight).summary


# -- security ----------------------------------------------------------------------------


def postures(service: Service) -> tuple[ColourPosture, ColourPosture]:
    state = service.engine.status()
    new, old = state.colour(Colour.GREEN), state.colour(Colour.BLUE)
    assert new is not None and old is not None
    inspect = service.client.containers.get
    return (
        posture_from_inspection(inspect(new.container_id).attrs),
        posture_from_inspection(inspect(old.container_id).attrs),
    )


def headers(service: Service) -> Finding:
    answers = {p: exchange(service.host, service.preview, p) for p in ("/", "/health")}
    return security.judge_headers(answers, security.DEFAULT_REQUIRED_HEADERS)


def test_security_passes_for_the_release(service: Service, deploy: Deploy) -> None:
    deploy(V3)
    new, old = postures(service)
    assert headers(service).status is EvidenceStatus.PASSED
    finding = security.judge_posture(new, old)
    assert finding.status is EvidenceStatus.PASSED, finding.summary
    tag = str(service.client.images.get(V3).id)
    pinned = security.judge_pinning(V3, new.image_id, tag)
    assert pinned.status is EvidenceStatus.PASSED and new.image_id == tag


def test_security_fails_for_a_release_exposing_a_debug_port(
    service: Service, deploy: Deploy
) -> None:
    deploy(DEBUG_PORT_RELEASE)
    new, old = postures(service)
    finding = security.judge_posture(new, old)
    print(finding.summary)
    assert finding.failed and "new exposed ports 9229/tcp" in finding.summary
    assert finding.measured["release"]["exposed_ports"] == ["8000/tcp", "9229/tcp"]
    assert finding.measured["old"]["exposed_ports"] == ["8000/tcp"]


def test_security_fails_for_privileged_mode_and_added_capabilities(
    service: Service, deploy: Deploy
) -> None:
    # The engine never creates such colours, so the engine is asked directly for containers
    # of the release made privileged and with an added capability: the posture is read from
    # the engine's own inspection, as the gate reads it. Created, never started.
    deploy(V3)
    _, old = postures(service)
    made = []
    try:
        for options in ({"privileged": True}, {"cap_add": ["NET_ADMIN"]}):
            made.append(service.client.containers.create(V3, **options))
        privileged, capable = (
            posture_from_inspection(service.client.containers.get(c.id).attrs) for c in made
        )
    finally:
        for container in made:
            container.remove(force=True)
    finding = security.judge_posture(privileged, old)
    assert finding.failed and "runs privileged" in finding.summary
    finding = security.judge_posture(capable, old)
    assert finding.failed and "NET_ADMIN" in finding.summary, finding.summary


def test_security_fails_for_leaked_versions_and_a_missing_header(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3, DEMO_FAULTS="leak_version,no_nosniff")
    finding = headers(service)
    print(finding.summary)
    assert finding.failed
    assert "X-Content-Type-Options missing" in finding.summary
    assert "Server names a version" in finding.summary


def scan(service: Service) -> tuple[int, str]:
    """Run the scanner container as the gate does: on the service network, at the preview."""
    container = service.client.containers.run(
        SCANNER,
        environment={
            "HANDOFF_SCAN_URL": f"http://{service.config.router_name}:8081",
            "HANDOFF_SCAN_IMAGE": V3,
        },
        network=service.config.network_name,
        detach=True,
    )
    try:
        code = int(container.wait(timeout=60)["StatusCode"])
        lines = container.logs().decode().strip().splitlines()
        return code, lines[-1]
    finally:
        container.remove(force=True)


def test_scanner_passes_a_clean_release_and_fails_a_leaky_one(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3)
    code, summary = scan(service)
    assert security.judge_scan(SCANNER, code, summary).status is EvidenceStatus.PASSED, summary
    service.engine.abort()
    deploy(V3, DEMO_FAULTS="leak_version")
    code, summary = scan(service)
    finding = security.judge_scan(SCANNER, code, summary)
    print(finding.summary)
    assert finding.failed and "1 findings" in finding.summary


# -- accessibility -----------------------------------------------------------------------


def audit(service: Service) -> tuple[accessibility.PageResult, accessibility.PageResult]:
    new, old = accessibility.audit(
        [f"http://{service.host}:{port}/" for port in (service.preview, service.live)]
    )
    return new, old


def test_accessibility_passes_for_the_release(service: Service, deploy: Deploy) -> None:
    deploy(V3)
    new, old = audit(service)
    finding = accessibility.judge("/", new, old, 0)
    print(finding.summary)
    assert finding.status is EvidenceStatus.PASSED and new.violations == 0


def test_accessibility_fails_for_an_image_without_alt_text(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3, DEMO_FAULTS="img_without_alt")
    new, old = audit(service)
    finding = accessibility.judge("/", new, old, None)
    print(finding.summary)
    assert finding.failed and new.rules == {"image-alt": 1} and old.violations == 0


# -- smoke -------------------------------------------------------------------------------


def journey(service: Service) -> Finding:
    return smoke.run_journey(
        "dashboard",
        JOURNEY,
        lambda s: exchange(service.host, service.preview, s.path, s.method, s.json_body),
        "preview",
    )


def test_smoke_journey_passes_for_the_release(service: Service, deploy: Deploy) -> None:
    deploy(V3)
    finding = journey(service)
    assert finding.status is EvidenceStatus.PASSED, finding.summary


def test_smoke_journey_fails_when_the_expected_text_is_missing(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3, DEMO_FAULTS="missing_text")
    finding = journey(service)
    print(finding.summary)
    assert finding.failed and "text 'dashboard' not found" in finding.summary
