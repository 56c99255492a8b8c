"""`python -m handoff accept`: a sidecar skeleton that lints clean, for every contract form.

The seed, the inline-bold Markdown report and the whole-file JSON contract each get a
skeleton; each is linted as a person would run it (the real `lint` command). A contract
full of hostile text must not reach the YAML as anything but the values meant.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from handoff.acceptance import Acceptance
from handoff.catalog import load_handoff
from handoff.contract.parser import parse_contract
from handoff.errors import Severity
from handoff.plan import CheckKind
from handoff.skeleton import comment, emit, render_skeleton, service_name
from tests.conftest import FIXTURES, SEED
from tests.support.handoffs import DEMO_ENVIRONMENT
from tests.unit.test_cli import run

FORMS = {
    "seed": SEED,
    "inline-bold": FIXTURES / "contracts" / "valid" / "inline_bold_report.md",
    "json": FIXTURES / "contracts" / "valid" / "whole_file.json",
}
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def handoffs_folder(tmp_path: Path, contract: Path) -> Path:
    """Copy a contract into a handoffs folder beside the demo environment; return its path."""
    (tmp_path / "handoffs").mkdir()
    (tmp_path / "environments").mkdir()
    shutil.copyfile(DEMO_ENVIRONMENT, tmp_path / "environments" / "demo.yaml")
    copy = tmp_path / "handoffs" / contract.name
    shutil.copyfile(contract, copy)
    return copy


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_skeleton_of_each_form_lints_clean_with_every_criterion_bound(
    form: str, tmp_path: Path
) -> None:
    contract = handoffs_folder(tmp_path, FORMS[form])
    written = run("accept", contract)
    assert written.returncode == 0, written.stderr
    sidecar = contract.with_name(contract.stem + ".deploy.yaml")
    text = sidecar.read_text()
    linted = run("lint", "--json", contract)
    report = json.loads(linted.stdout)
    assert linted.returncode == 0 and report["errors"] == 0, linted.stdout
    handoff = load_handoff(contract)
    assert handoff.deployable and handoff.plan is not None
    # Every criterion is listed, with the check the plan binds it to.
    for binding in handoff.plan.checks:
        line = f"/ {comment(binding.criterion.name)} (contract line {binding.criterion.line})"
        assert line in text, binding.criterion.name
        bound = text.split(line, 1)[1].splitlines()[1]
        expected = "not verified" if binding.kind is CheckKind.NOT_VERIFIED else binding.kind.value
        assert bound.startswith(f"#       -> {expected}"), bound
    # The only warnings are criteria the skeleton itself says are not verified yet.
    warnings = [d for d in report["diagnostics"] if d["severity"] == Severity.WARNING.value]
    assert all("will be reported not verified" in w["message"] for w in warnings), warnings
    for warning in warnings:
        assert warning["message"].split("'")[1] in text
    assert text.count("not verified") >= len(warnings)
    # Placeholders are marked; values the contract states are filled in.
    acceptance = handoff.acceptance
    assert acceptance is not None
    assert acceptance.service.name == service_name(handoff.plan.contract.handoff_id)
    assert "replace-with-the-release-tag" in acceptance.service.image
    image_line = next(line for line in text.splitlines() if "image:" in line)
    assert "# DECIDE:" in image_line


def test_the_seeds_budgets_come_from_its_performance_targets(tmp_path: Path) -> None:
    contract = handoffs_folder(tmp_path, SEED)
    parsed = parse_contract(contract).contract
    assert parsed is not None
    data = yaml.safe_load(render_skeleton(parsed, NOW, "demo", None))
    budgets = {e["name"]: e["p95_ms"] for e in data["checks"]["endpoints"]}
    assert budgets == {"dashboard loads": 3000.0, "AI optimization": 2000.0}
    assert data["service"]["health_path"] == "/health"
    assert data["accepted_at"] == "2026-12-02T08:00:00Z"
    assert data["handoff_id"] == "PROD-DEPLOYMENT-001"
    assert "data_integrity" not in data["checks"]  # not verified: said so in a comment
    Acceptance.model_validate(data)


HOSTILE_NAME = "Health\nhandoff_id: EVIL\u2028service: {name: x}\x85# checks: null\r- [x]"


def test_contract_text_reaches_the_yaml_only_as_values_and_one_line_comments(
    tmp_path: Path,
) -> None:
    hostile = json.loads(FORMS["json"].read_text())
    hostile["acceptance_criteria"]["Deployment Success Criteria"].append(
        {"name": HOSTILE_NAME, "description": "p95 under budget (<250ms 'quoted: {x}, [y] #z)"}
    )
    hostile["acceptance_criteria"]["Latency"] = [
        {"name": "Performance", "description": "the page *: & ! | > % @ `x` loads in <2s"}
    ]
    contract = tmp_path / "handoffs" / "HOSTILE.json"
    contract.parent.mkdir()
    contract.write_text(json.dumps(hostile))
    parsed = parse_contract(contract).contract
    assert parsed is not None
    text = render_skeleton(parsed, NOW, "demo", None)
    data = yaml.safe_load(text)
    assert data["handoff_id"] == "SEARCH-API-007"
    assert data["service"]["name"] == "search-api-007"
    assert data["checks"]["endpoints"] == [
        {"name": "the page *: & ! | > % @ `x` loads in", "path": "/", "p95_ms": 2000.0}
    ]
    assert set(data) == {
        "handoff_id",
        "accepted_by",
        "accepted_at",
        "environment",
        "service",
        "promotion",
        "checks",
    }
    for line in text.splitlines():
        assert line == "" or line.lstrip().startswith("#") or ":" in line or "- " in line, line
    assert "# - Deployment" not in text.replace("#   - Deployment", "")
    assert [line for line in text.splitlines() if "EVIL" in line] == [
        line for line in text.splitlines() if "EVIL" in line and line.lstrip().startswith("#")
    ]
    Acceptance.model_validate(data)


@pytest.mark.parametrize(
    "value",
    ["plain", "a: b", "- x", "{x}", "#c", "'q'", "x\ny", "\u2028", "null", "1e3", "yes", ""],
)
def test_emitted_values_read_back_as_themselves(value: str) -> None:
    line = emit(value)
    assert "\n" not in line and yaml.safe_load(f"key: {line}  # comment") == {"key": value}


def test_the_command_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    contract = handoffs_folder(tmp_path, SEED)
    sidecar = contract.with_name("PROD-DEPLOYMENT-001.deploy.yaml")
    sidecar.write_text("kept: true\n")
    refused = run("accept", contract)
    assert refused.returncode == 1 and "exists already" in refused.stderr
    assert sidecar.read_text() == "kept: true\n"
    printed = run("accept", "--stdout", contract)
    assert printed.returncode == 0 and printed.stdout.startswith("# Acceptance of")
    assert sidecar.read_text() == "kept: true\n"
    forced = run("accept", "--force", contract)
    assert forced.returncode == 0 and "handoff_id: PROD-DEPLOYMENT-001" in sidecar.read_text()


def test_the_command_refuses_a_broken_contract_and_an_unknown_environment(
    tmp_path: Path,
) -> None:
    broken = handoffs_folder(tmp_path, FIXTURES / "contracts" / "broken" / "no_handoff_id.md")
    answer = run("accept", broken)
    assert answer.returncode == 1 and "no Handoff ID" in answer.stderr
    assert not broken.with_name("no_handoff_id.deploy.yaml").exists()
    seed = broken.with_name("PROD-DEPLOYMENT-001.md")
    shutil.copyfile(SEED, seed)
    unknown = run("accept", "--environment", "nowhere", seed)
    assert unknown.returncode == 1 and "nowhere.yaml" in unknown.stderr
    assert run("accept", tmp_path / "missing.md").returncode == 2
