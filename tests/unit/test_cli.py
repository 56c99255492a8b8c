"""The command line as people and pre-commit hooks run it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT, SEED


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    return subprocess.run(
        [sys.executable, "-m", "handoff", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_lint_default_folder_is_clean() -> None:
    result = run("lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("1 contract(s) checked: 0 error(s), 0 warning(s)")
    # Which of the seed's Dependencies are configured, and which are left unproven.
    (note,) = [line for line in result.stdout.splitlines() if "dependencies proven" in line]
    assert note.startswith("include/handoffs/PROD-DEPLOYMENT-001.deploy.yaml: note: ")
    for phrase in (
        "capacity (memory headroom 256 MB, disk 1024 MB, engine >= 20.10)",
        "access (the Slack connection)",
        "tls: not configured (checks.dependencies.tls), plain HTTP",
        "third parties: none listed (checks.dependencies.third_parties)",
        "static assets through the preview before the switch (/static/app.css)",
    ):
        assert phrase in note, note


def test_lint_reports_every_broken_file_at_once() -> None:
    result = run("lint", FIXTURES / "contracts" / "broken", FIXTURES / "acceptance" / "handoffs")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    files = {line.split(":", 1)[0] for line in errors}
    assert len(files) == 20, errors  # 11, and 9 bad-input fixtures (docs/security.md)
    # Every error names a file and a line.
    assert all(line.split(":")[1].isdigit() for line in errors), errors


def test_lint_json() -> None:
    result = run("lint", "--json", FIXTURES / "contracts" / "broken" / "bad_timestamp.md")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["errors"] == 1
    [error] = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert error["line"] == 7 and error["path"].endswith("bad_timestamp.md")


def test_lint_missing_path() -> None:
    result = run("lint", "no/such/folder")
    assert result.returncode == 2 and "no such file or folder" in result.stderr


def test_show_seed() -> None:
    result = run("show", SEED)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("PROD-DEPLOYMENT-001: Production Deployment")
    assert "T-24h   pre-deploy notice" in text
    assert "T+72h   monitoring period" in text
    assert "Zero-Downtime Deployment    -> zero-downtime probe [during the switch]" in text
    assert "error rate            at most 1 %" in text


def test_show_json_round_trips() -> None:
    result = run("show", "--json", SEED)
    plan = json.loads(result.stdout)
    assert plan["contract"]["handoff_id"] == "PROD-DEPLOYMENT-001"
    assert plan["steps"][1]["offset"] == -86400
    assert len(plan["checks"]) == 15


def test_show_broken_file_fails_with_its_message() -> None:
    result = run("show", FIXTURES / "contracts" / "broken" / "no_handoff_id.md")
    assert result.returncode == 1
    assert "no_handoff_id.md:3: error: no Handoff ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_sidecar_bindings_override_the_rules_and_lint_checks_both_sides(tmp_path: Path) -> None:
    from handoff.catalog import load_handoff
    from handoff.plan.model import CheckKind
    from tests.support.handoffs import make_handoffs

    handoffs = make_handoffs(tmp_path, ["BIND-001"])
    contract, sidecar = handoffs / "BIND-001.md", handoffs / "BIND-001.deploy.yaml"
    text = contract.read_text()
    marker = "- [ ] **Security Monitoring**"
    assert marker in text
    contract.write_text(
        text.replace(marker, "- [ ] **Team Morale**: the team is rested\n" + marker)
    )
    with sidecar.open("a") as out:
        out.write('bindings:\n  "User Analytics": smoke\n')
    bound = {b.criterion.name: b for b in load_handoff(contract).plan.checks}
    assert bound["User Analytics"].kind is CheckKind.SMOKE
    assert "bound in the sidecar" in bound["User Analytics"].note
    assert bound["Team Morale"].kind is CheckKind.NOT_VERIFIED
    done = run("lint", handoffs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "criterion 'Team Morale' is not verified by any check" in done.stdout
    with sidecar.open("a") as out:
        out.write('  "No Such Criterion": monitoring\n  "Error Tracking": nonsense\n')
    done = run("lint", handoffs)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "binding 'No Such Criterion': the contract has no criterion of that name" in done.stdout
    assert "binding 'Error Tracking': no check named 'nonsense'; known: " in done.stdout
