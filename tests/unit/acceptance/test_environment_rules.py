"""The environment's run rules, `rehearsals` and `releases`: lint errors with file and line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.acceptance import load_yaml_model
from handoff.acceptance.environment import Environment, RehearsalPolicy, ReleasePolicy
from handoff.catalog import load_handoff
from handoff.errors import Severity
from tests.conftest import FIXTURES, ROOT

HANDOFFS = FIXTURES / "acceptance" / "handoffs"
ENVIRONMENT = FIXTURES / "acceptance" / "environments" / "demo.yaml"
DIGEST = "sha256:" + "0f" * 32


def folder_with(tmp_path: Path, environment: str, image: str = "handoff-demo:2.0.0") -> Path:
    """Write the accepted fixture handoff with this environment text; return its contract."""
    (tmp_path / "handoffs").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "demo.yaml").write_text(environment)
    contract = tmp_path / "handoffs" / "accepted.md"
    contract.write_bytes((HANDOFFS / "accepted.md").read_bytes())
    sidecar = (HANDOFFS / "accepted.deploy.yaml").read_text()
    (tmp_path / "handoffs" / "accepted.deploy.yaml").write_text(
        sidecar.replace("image: handoff-demo:2.0.0", f"image: {image}")
    )
    return contract


def test_demo_and_fixture_environments_allow_rehearsals_of_the_demo_images() -> None:
    for path in (ROOT / "include" / "environments" / "demo.yaml", ENVIRONMENT):
        loaded, problems = load_yaml_model(path, Environment)
        assert loaded is not None and problems == [], problems
        assert loaded.value.rehearsals is RehearsalPolicy.ALLOWED
        assert loaded.value.releases.allowed_prefixes == ["handoff-demo"]


@pytest.mark.parametrize(
    ("text", "field", "found"),
    [
        ("rehearsals: yes\n", "rehearsals", "allowed"),
        ("rehearsals: always\n", "rehearsals", "allowed"),
        ("releases:\n  allowed_prefixes: ['Handoff Demo']\n", "releases.allowed_prefixes", ""),
        ("releases:\n  digests: [sha256:abc]\n", "releases.digests", ""),
        ("releases:\n  repositories: [handoff-demo]\n", "releases.repositories", ""),
    ],
)
def test_bad_rule_fields_are_located_errors(
    tmp_path: Path, text: str, field: str, found: str
) -> None:
    base = ENVIRONMENT.read_text().split("rehearsals:")[0]
    path = tmp_path / "prod.yaml"
    path.write_text(base + text)
    loaded, [problem] = load_yaml_model(path, Environment)
    assert loaded is None
    rendered = problem.render()
    line = base.count("\n") + text.count("\n")  # the field's own line, nested or not
    assert rendered.startswith(f"{path}:{line}: error: "), rendered
    assert field in rendered and found in rendered, rendered


def test_sidecar_image_outside_the_environments_releases_is_a_lint_error(tmp_path: Path) -> None:
    contract = folder_with(tmp_path, ENVIRONMENT.read_text(), image="busybox:latest")
    handoff = load_handoff(contract)
    assert not handoff.deployable
    [error] = [d for d in handoff.diagnostics if d.severity is Severity.ERROR]
    assert error.path == tmp_path / "handoffs" / "accepted.deploy.yaml"
    assert error.line == 8  # service.image
    assert error.message == (
        "service.image 'busybox:latest' is not a release demo.yaml allows "
        "(field releases: repositories handoff-demo)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "handoff", "lint", str(tmp_path / "handoffs")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "accepted.deploy.yaml:8: error: service.image 'busybox:latest'" in result.stdout


def test_sidecar_image_pinned_by_an_allowed_digest_passes(tmp_path: Path) -> None:
    environment = ENVIRONMENT.read_text() + f"  digests: ['{DIGEST}']\n"
    handoff = load_handoff(folder_with(tmp_path, environment, image=f"vendor/app@{DIGEST}"))
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]


def test_an_environment_without_releases_checks_nothing_at_lint(tmp_path: Path) -> None:
    # Unset, the sidecar's own image is the only release; runs refuse any other.
    environment = ENVIRONMENT.read_text().split("releases:")[0]
    handoff = load_handoff(folder_with(tmp_path, environment, image="busybox:latest"))
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]
    assert handoff.environment is not None
    assert handoff.environment.releases == ReleasePolicy()


@pytest.mark.parametrize(
    ("prefix", "reference", "allowed"),
    [
        ("handoff-demo", "handoff-demo", True),
        ("handoff-demo", "handoff-demo:1.1.0", True),
        ("handoff-demo", f"handoff-demo@{DIGEST}", True),
        ("handoff-demo", "handoff-demo-evil:1", False),
        ("handoff-demo", "handoff-demo/sub:1", False),
        ("registry.example/team/", "registry.example/team/app:2", True),
        ("registry.example/team/", "registry.example/team/../x:2", False),
        ("registry.example/team/", "registry.example/teammate/app:2", False),
        ("handoff-demo:1.", "handoff-demo:1.2.0", True),
        ("handoff-demo", "handoff-demo:1 ; rm -rf /", False),
    ],
)
def test_a_prefix_allows_its_repository_not_a_longer_name(
    prefix: str, reference: str, allowed: bool
) -> None:
    assert ReleasePolicy(allowed_prefixes=[prefix]).allows(reference) is allowed
