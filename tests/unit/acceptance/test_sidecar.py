"""Acceptance sidecars and environments: strict settings, errors with file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.acceptance import Acceptance, load_yaml_model
from handoff.catalog import load_handoff
from handoff.errors import Diagnostic, Severity
from tests.conftest import FIXTURES, ROOT, SEED

HANDOFFS = FIXTURES / "acceptance" / "handoffs"


def diagnostics_of(name: str, severity: Severity) -> list[Diagnostic]:
    handoff = load_handoff(HANDOFFS / name)
    return [d for d in handoff.diagnostics if d.severity is severity]


def test_accepted_handoff_has_a_plan() -> None:
    handoff = load_handoff(HANDOFFS / "accepted.md")
    assert handoff.deployable
    assert handoff.acceptance and handoff.acceptance.deploy_at == datetime(
        2026, 1, 3, 9, tzinfo=UTC
    )
    assert handoff.environment and handoff.environment.router.live_port == 28080
    assert handoff.environment.probes.interval == timedelta(seconds=1)  # a default


def test_unknown_key_names_line_and_suggests() -> None:
    errors = diagnostics_of("unknown_key.md", Severity.ERROR)
    rendered = [e.render() for e in errors]
    sidecar = HANDOFFS / "unknown_key.deploy.yaml"
    assert f"{sidecar}:8: error: unknown key 'service.imgae' (did you mean 'image'?)" in rendered
    assert f"{sidecar}:6: error: missing required key 'service.image'" in rendered


def test_id_mismatch() -> None:
    [error] = diagnostics_of("id_mismatch.md", Severity.ERROR)
    assert error.line == 1
    assert error.message == (
        "handoff_id 'ACC-OTHER' does not match the contract's 'ACC-MISMATCH' (id_mismatch.md)"
    )


def test_deploy_at_outside_window() -> None:
    [error] = diagnostics_of("deploy_outside_window.md", Severity.ERROR)
    assert error.line == 4
    assert (
        "outside the deployment window: the contract allows 48 h after acceptance" in error.message
    )
    assert "closes 2026-01-04 09:00 UTC" in error.message


def test_short_notice_lead_is_a_warning_not_an_error() -> None:
    handoff = load_handoff(HANDOFFS / "short_notice.md")
    assert handoff.deployable
    warnings = [d for d in handoff.diagnostics if d.severity is Severity.WARNING]
    messages = [(d.line, d.message) for d in warnings if d.path.name.endswith(".deploy.yaml")]
    assert (
        5,
        "notice_lead 4 h is shorter than the contract's 24 h notice (contract line 13)",
    ) in messages
    # The shortened lead still fits between acceptance and deploy: nothing more to say.
    assert not any("between acceptance and deploy_at" in m for _, m in messages)


def test_deploy_sooner_than_the_notice_lead_is_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "handoffs"
    folder.mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "demo.yaml").write_bytes(
        (FIXTURES / "acceptance" / "environments" / "demo.yaml").read_bytes()
    )
    (folder / "soon.md").write_bytes((HANDOFFS / "accepted.md").read_bytes())
    sidecar = (HANDOFFS / "accepted.deploy.yaml").read_text()
    (folder / "soon.deploy.yaml").write_text(
        sidecar.replace("deploy_at: 2026-01-03T09:00:00Z", "deploy_at: 2026-01-02T15:00:00Z")
    )
    handoff = load_handoff(folder / "soon.md")
    assert handoff.deployable
    [warning] = [d for d in handoff.diagnostics if "between acceptance" in d.message]
    assert warning.line == 4
    assert warning.message == (
        "only 6 h between acceptance and deploy_at: the 24 h notice cannot be given in full; "
        "it goes out at acceptance"
    )


def test_unknown_environment_lists_known_ones() -> None:
    [error] = diagnostics_of("unknown_environment.md", Severity.ERROR)
    assert error.line == 5 and error.hint == "known environments: demo"


def test_secret_looking_env_is_refused(tmp_path: Path) -> None:
    sidecar = tmp_path / "x.deploy.yaml"
    text = (HANDOFFS / "accepted.deploy.yaml").read_text()
    sidecar.write_text(
        text.replace(
            "  image: handoff-demo:2.0.0\n",
            "  image: handoff-demo:2.0.0\n  env:\n    DB_PASSWORD: x\n    LOG_LEVEL: info\n",
        )
    )
    loaded, [problem] = load_yaml_model(sidecar, Acceptance)
    assert loaded is None
    assert problem.line == 9
    assert "DB_PASSWORD look like secrets; keep secrets in Airflow connections" in problem.message
    assert "'x'" not in problem.render()  # the value itself is never echoed


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    sidecar = tmp_path / "x.deploy.yaml"
    sidecar.write_text("handoff_id: X\nservice: [unclosed\n")
    loaded, [problem] = load_yaml_model(sidecar, Acceptance)
    assert loaded is None and problem.message.startswith("invalid YAML") and problem.line == 3


def test_seed_sidecar_targets_the_demo_service() -> None:
    handoff = load_handoff(SEED)
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]
    assert handoff.acceptance and handoff.acceptance.environment == "demo"
    assert (
        handoff.environment
        == load_yaml_model(
            ROOT / "include" / "environments" / "demo.yaml", type(handoff.environment)
        )[0].value
    )  # type: ignore[union-attr]
    endpoints = {e.name: e.p95_ms for e in handoff.acceptance.checks.endpoints}
    assert endpoints == {"dashboard loads": 3000, "AI optimization": 2000}


@pytest.mark.parametrize("value", ["24h", "24 hours", 86400])
def test_durations_in_settings(tmp_path: Path, value: object) -> None:
    sidecar = tmp_path / "x.deploy.yaml"
    text = (HANDOFFS / "accepted.deploy.yaml").read_text()
    sidecar.write_text(text + f"notice_lead: {value}\n")
    loaded, problems = load_yaml_model(sidecar, Acceptance)
    assert not problems and loaded and loaded.value.notice_lead == timedelta(hours=24)


def test_environment_lease_settings_default_and_poll_floor(tmp_path: Path) -> None:
    from handoff.acceptance.environment import Environment

    demo = ROOT / "include" / "environments" / "demo.yaml"
    loaded, problems = load_yaml_model(demo, Environment)
    assert loaded is not None and problems == []
    lease = loaded.value.lease
    assert (lease.wait, lease.poll) == (timedelta(hours=6), timedelta(minutes=1))
    hasty = tmp_path / "hasty.yaml"
    hasty.write_text(demo.read_text().replace("poll: 1 minute", "poll: 3s"))
    loaded, [problem] = load_yaml_model(hasty, Environment)
    assert loaded is None
    assert "lease.poll" in problem.render() and "10 seconds" in problem.message, problem.render()
