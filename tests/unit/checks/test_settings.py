"""The gates' settings in the sidecar and the environment: defaults and located errors."""

from __future__ import annotations

from pathlib import Path

from handoff.acceptance.sidecar import CheckSettings
from handoff.catalog import load_handoff
from handoff.plan.bindings import missing_settings
from handoff.plan.model import CheckKind
from tests.support.handoffs import make_handoffs


def test_defaults_without_any_gate_settings() -> None:
    checks = CheckSettings()
    assert checks.performance.requests is None  # the environment's latency_samples
    performance = checks.performance
    assert (performance.connections, performance.noise_floor_ms, performance.attempts) == (
        2,
        50.0,
        3,
    )
    assert checks.security.required_headers == {"X-Content-Type-Options": "nosniff"}
    assert checks.accessibility.max_violations is None
    assert checks.monitoring.metrics_path is None


def test_seed_sidecar_and_demo_environment_name_the_gate_settings(seed_path: Path) -> None:
    handoff = load_handoff(seed_path)
    assert handoff.deployable and handoff.acceptance and handoff.environment
    checks = handoff.acceptance.checks
    assert checks.accessibility.max_violations == 0
    assert checks.monitoring.metrics_path == "/metrics"
    assert handoff.environment.security.scanner_image == "handoff-scanner:latest"
    assert all(missing_settings(kind, handoff.acceptance) == "" for kind in CheckKind)


def test_bad_gate_settings_are_located(tmp_path: Path) -> None:
    folder = make_handoffs(
        tmp_path,
        ["BAD"],
        sidecar_edits={"max_violations: 0": "max_violations: -1", "connections: 2": "conns: 2"},
    )
    handoff = load_handoff(folder / "BAD.md")
    rendered = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
    sidecar = folder / "BAD.deploy.yaml"
    lines = sidecar.read_text().splitlines()
    max_line = next(i for i, text in enumerate(lines, 1) if "max_violations" in text)
    conns_line = next(i for i, text in enumerate(lines, 1) if "conns:" in text)
    assert f"{sidecar}:{max_line}: error:" in rendered
    assert "checks.accessibility.max_violations" in rendered
    assert f"{sidecar}:{conns_line}: error: unknown key 'checks.performance.conns'" in rendered
    assert not handoff.deployable


def test_bad_environment_setting_is_located(tmp_path: Path) -> None:
    folder = make_handoffs(
        tmp_path, ["BAD"], environment_edits={"scanner_timeout: 2 minutes": "scanner_timeout: soon"}
    )
    handoff = load_handoff(folder / "BAD.md")
    rendered = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
    environment = tmp_path / "environments" / "demo.yaml"
    line = next(
        i
        for i, text in enumerate(environment.read_text().splitlines(), 1)
        if "scanner_timeout" in text
    )
    assert f"{environment}:{line}: error:" in rendered and "security.scanner_timeout" in rendered
