"""Issue 14, item 4: every bad input is a located error of its own file, never a traceback.

Each reproducer (tests/support/bad_input.py, fixtures under tests/fixtures/) is linted by a
real `python -m handoff lint` process and read into the Handoffs page's rows beside a good
handoff. On the code before the fix each of them ended in a traceback (the 50,000 `>` one in
a segfault), and the page's catalog raised instead of returning rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.catalog import load_catalog, load_handoff
from handoff.contract import parse_contract
from handoff.contract import parser as parser_module
from handoff.contract.limits import MAX_JSON_DEPTH, MAX_MARKDOWN_DEPTH
from handoff.contract.quantities import find_threshold
from handoff.render.docs import dag_doc, safe_doc_md
from handoff.ui.catalog_cache import cached_catalog
from tests.conftest import ROOT
from tests.support.bad_input import CASES, ENDS_IN_DOT_MD, BadInput
from tests.support.handoffs import make_handoffs

IDS = [case.name for case in CASES]


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handoff", "lint", *map(str, paths)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def located(case: BadInput, path: Path) -> str:
    where = f"{path}:{case.line}" if case.line else str(path)
    return f"{where}: error: {case.message}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_lint_gives_the_located_error_and_no_traceback(case: BadInput) -> None:
    result = lint(case.fixture)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # a crash is negative, a traceback exits 1 too
    assert "Traceback" not in output
    assert located(case, case.fixture.with_name(case.bad_name)) in result.stdout, output


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_page_shows_the_rows_error_and_the_good_row(case: BadInput, tmp_path: Path) -> None:
    from handoff.ui.overview import handoff_rows  # imports the report layer: keep it lazy

    folder = make_handoffs(tmp_path, ["GOOD-1"])
    bad = case.plant(folder)
    rows = handoff_rows(
        cached_catalog([folder]), {"handoff_good_1"}, {}, datetime.now(UTC), show_undeployed=True
    )
    by_file = {row.contract_file: row for row in rows}
    good = by_file["GOOD-1.md"]
    assert good.dag_id == "handoff_good_1" and not good.errors
    [row] = [r for name, r in by_file.items() if name != "GOOD-1.md"]
    assert row.dag_id is None
    assert any(located(case, bad) in error for error in row.errors), row.errors


def test_a_secret_value_is_never_printed() -> None:
    [case] = [c for c in CASES if c.name == "secret_url_value"]
    result = lint(case.fixture)
    assert "pw@" not in result.stdout + result.stderr
    [webhook] = [c for c in CASES if c.name == "secret_webhook_value"]
    assert "notarealvalue" not in lint(webhook.fixture).stdout


def test_depth_limits_are_exact(tmp_path: Path) -> None:
    base = (ROOT / "tests/fixtures/acceptance/handoffs/accepted.md").read_text()
    path = tmp_path / "c.md"
    path.write_text(base + "\n" + "> " * MAX_MARKDOWN_DEPTH + "deep enough\n")
    assert parse_contract(path).ok
    path.write_text(base + "\n" + "> " * (MAX_MARKDOWN_DEPTH + 1) + "too deep\n")
    assert not parse_contract(path).ok
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    document = (
        '{"schema": "HANDOFF/V1", "handoff_id": "J-1", "from": "a", "to": "b", '
        f'"timestamp": "2026-01-01T00:00:00Z", "context": {{}}, "x": {nested[2:-2]}}}'
    )
    json_path = tmp_path / "c.json"
    json_path.write_text(document)
    assert parse_contract(json_path).ok  # 1 (top) + 1 (context) ... 31 arrays deep
    json_path.write_text(document.replace(nested[2:-2], "[" + nested + "]"))
    [error] = [d for d in parse_contract(json_path).diagnostics if d.is_error]
    assert error.line == 1 and "JSON nests more than 32" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "> - " * 40 + "x",  # quotes and lists together
        "1. " * 40 + "x",
        " " * 80 + "- x",  # a list indented 40 levels
        "**" * 5000 + "x" + "**" * 5000,  # emphasis nesting: 20,000 delimiters in one paragraph
        "![" * 3000 + "x" + "](u)" * 3000 + "\n" + "*a " * 40 + "b" + " c*" * 40,
    ],
    ids=["quote-list", "ordered", "indented", "emphasis", "images"],
)
def test_other_deep_markdown_is_a_located_error(text: str, tmp_path: Path) -> None:
    base = (ROOT / "tests/fixtures/acceptance/handoffs/accepted.md").read_text()
    path = tmp_path / "c.md"
    path.write_text(base + "\n" + text + "\n")
    result = parse_contract(path)
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors and all(d.line and d.line >= 18 for d in errors), errors
    assert "deep" in errors[0].message or "emphasis or link characters" in errors[0].message


def test_an_unforeseen_exception_is_the_files_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_handoffs(tmp_path, ["GOOD-1", "BAD-2"])

    real = parser_module._Interpreter.contract

    def explode(self: parser_module._Interpreter) -> object:
        if self.source.path.name == "BAD-2.md":
            raise KeyError("boom")
        return real(self)

    monkeypatch.setattr(parser_module._Interpreter, "contract", explode)
    catalog = load_catalog([folder])
    bad, good = sorted(catalog.handoffs, key=lambda h: h.contract_path.name)
    assert good.deployable
    [error] = [d for d in bad.diagnostics if d.is_error]
    assert error.render() == (
        f"{folder / 'BAD-2.md'}: error: unexpected KeyError while parsing the contract: 'boom' "
        "(the handoff package did not foresee this input; please report it with the file)"
    )


def test_an_unforeseen_exception_in_the_sidecar_is_the_handoffs_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_handoffs(tmp_path, ["BAD-2"])
    monkeypatch.setattr(
        "handoff.catalog.cross_check", lambda *_: (_ for _ in ()).throw(OverflowError("big"))
    )
    handoff = load_handoff(folder / "BAD-2.md", folder.parent / "environments")
    [error] = handoff.diagnostics
    assert "unexpected OverflowError while loading the handoff: big" in error.message


def test_a_doc_ending_in_dot_md_stays_text() -> None:
    handoff = load_handoff(ENDS_IN_DOT_MD, ROOT / "tests/fixtures/acceptance/environments")
    assert not handoff.deployable  # no sidecar: the doc is built from the contract alone
    assert safe_doc_md("see notes.md") == "see notes.md\n"
    assert safe_doc_md("text\n") == "text\n"
    folder_handoff = parse_contract(ENDS_IN_DOT_MD)
    assert folder_handoff.ok


def test_a_doc_from_a_contract_ending_in_dot_md_ends_in_a_newline(tmp_path: Path) -> None:
    folder = make_handoffs(tmp_path, [])
    BadInput("ends", ENDS_IN_DOT_MD, None, "").plant(folder)
    handoff = load_handoff(folder / ENDS_IN_DOT_MD.name, folder.parent / "environments")
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]
    doc = dag_doc(handoff)
    assert doc.endswith(".md\n") and not doc.endswith(".md")


@pytest.mark.parametrize("digits", [4_000, 8_000, 64_000, 500_000])
def test_quantity_scan_is_linear(digits: int) -> None:
    # Before: 4,000 digits took 3.4 s and 8,000 took 11.5 s (quadratic); now microseconds
    # per thousand. The bound is loose so a shared machine cannot make it flaky.
    for text in ("1" * digits, "1" + " " * digits, "< " + " " * digits, "1." * (digits // 2)):
        started = time.perf_counter()
        assert find_threshold(text + " x") is None
        assert time.perf_counter() - started < 1 + digits / 50_000, (digits, text[:5])
