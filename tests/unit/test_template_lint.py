"""`lint` warns about template syntax in a contract or sidecar, naming the file and the line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handoff.catalog import load_handoff
from handoff.errors import Severity, errors_in
from handoff.template_lint import template_syntax_warnings
from tests.support.handoffs import ROOT, make_handoffs
from tests.support.poisoned import poisoned_handoff


def line_of(path: Path, needle: str) -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


def test_lint_names_the_file_and_line_of_template_syntax(tmp_path: Path) -> None:
    contract = poisoned_handoff(tmp_path, "{{ conn.handoff_slack.password }}")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    lint = subprocess.run(
        [sys.executable, "-m", "handoff", "lint", str(contract.parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr  # a warning, not an error
    line = line_of(contract, "No user-reported issues within 24 hours {{")
    expected = f"{contract}:{line}: warning: template syntax '{{{{' in the text"
    assert expected in lint.stdout, lint.stdout
    assert "Traceback" not in lint.stderr


def test_each_kind_of_delimiter_is_found_on_its_line(tmp_path: Path) -> None:
    contract = tmp_path / "C.md"
    contract.write_text("# HANDOFF/V1\nplain\r\na {% if %}\nb {# x\nc {{ y }}\nd { not } {x}\n")
    found = template_syntax_warnings(contract)
    assert [d.line for d in found] == [3, 4, 5]
    assert all(d.severity is Severity.WARNING for d in found)
    for syntax, warning in zip(("'{%'", "'{#'", "'{{'"), found, strict=True):
        assert syntax in warning.message


def test_many_lines_are_summed_up_after_a_few(tmp_path: Path) -> None:
    contract = tmp_path / "C.md"
    contract.write_text("".join(f"line {n} {{{{ x }}}}\n" for n in range(1, 31)))
    found = template_syntax_warnings(contract)
    assert [d.line for d in found] == [1, 2, 3, 4, 5]
    assert "25 more lines" in found[-1].message


def test_a_sidecar_is_checked_too_and_a_clean_handoff_has_no_warning(tmp_path: Path) -> None:
    clean = make_handoffs(tmp_path / "clean", ["CLEAN-1"]) / "CLEAN-1.md"
    assert not [d for d in load_handoff(clean).diagnostics if "template" in d.message]
    folder = make_handoffs(
        tmp_path / "side",
        ["SIDE-1"],
        sidecar_edits={"accepted_by: SPARC SRE Engineer": "accepted_by: '{{ var.value.x }}'"},
    )
    handoff = load_handoff(folder / "SIDE-1.md")
    sidecar = folder / "SIDE-1.deploy.yaml"
    [warning] = [d for d in handoff.diagnostics if "template" in d.message]
    assert warning.path == sidecar and warning.line == line_of(sidecar, "accepted_by")
    assert not errors_in(handoff.diagnostics)
