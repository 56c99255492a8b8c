"""Contract and sidecar text stays inert; sidecar paths that leave the project are refused.

Shell payloads (``$(touch M)``, backticks, ``; touch M`` ...) go into every free-text field
of the contract and the sidecar; lint, show and a DAG build run over them; the marker files
those payloads would create must never appear. Nothing is mocked: the CLI runs as a process
and the DAG is built by Airflow's DagBag through the project's loader.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.catalog import load_handoff
from handoff.errors import errors_in
from tests.support.airflow_env import loader_dagbag
from tests.support.handoffs import ROOT, make_handoffs
from tests.unit.property.strategies import SHELL_PAYLOADS


def payloads(folder: Path) -> dict[str, Path]:
    """Return each payload, formatted with its own marker file under ``folder``."""
    markers = {}
    for number, template in enumerate(SHELL_PAYLOADS):
        marker = folder / f"pwned-{number}"
        markers[template.format(marker=marker)] = marker
    return markers


def poisoned_handoff(root: Path, texts: list[str]) -> Path:
    """Write a seed handoff whose free-text fields carry the payloads; return its contract."""
    joined = " ".join(texts)
    quoted = joined.replace("'", "''")
    folder = make_handoffs(
        root,
        ["INERT-1"],
        sidecar_edits={
            "accepted_by: SPARC SRE Engineer": f"accepted_by: '{quoted}'",
            "    - name: dashboard loads": f"    - name: '{quoted}'",
            "          expect_text: dashboard": f"          expect_text: '{quoted}'",
            "  health_path: /health\n": f"  health_path: /health\n  env:\n    NOTE: '{quoted}'\n",
        },
    )
    contract = folder / "INERT-1.md"
    text = contract.read_text(encoding="utf-8")
    one_line = joined.replace("\n", " ")
    text = text.replace("- **From**: SPARC Orchestrator", f"- **From**: {one_line}")
    text = text.replace("Execute production deployment", f"Execute {one_line} deployment")
    text = text.replace("## Context\n", f"## Context\n{joined}\n\n```sh\n{joined}\n```\n")
    contract.write_text(text, encoding="utf-8")
    return contract


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    return subprocess.run(
        [sys.executable, "-m", "handoff", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_shell_payloads_stay_inert_through_lint_show_and_a_dag_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markers = payloads(tmp_path)
    contract = poisoned_handoff(tmp_path, list(markers))
    handoff = load_handoff(contract)
    assert not errors_in(handoff.diagnostics), [d.render() for d in handoff.diagnostics]

    lint = cli("lint", str(contract.parent), cwd=tmp_path)
    show = cli("show", str(contract), cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert show.returncode == 0, show.stderr
    assert "$(touch" in show.stdout  # the text is shown as text

    monkeypatch.setenv("HANDOFF_DIR", str(contract.parent))
    bag = loader_dagbag()
    assert bag.import_errors == {}
    dag = bag.dags["handoff_inert_1"]
    assert "$(touch" in (dag.doc_md or "")

    appeared = sorted(str(m) for m in markers.values() if m.exists())
    assert appeared == [], f"a payload ran: {appeared}"
    assert not list(tmp_path.glob("pwned-*"))
    assert not list(Path.cwd().glob("pwned-*"))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chosen=st.lists(st.sampled_from(SHELL_PAYLOADS), min_size=1, max_size=4))
def test_any_mix_of_payloads_loads_without_running_anything(
    tmp_path_factory: pytest.TempPathFactory, chosen: list[str]
) -> None:
    root = tmp_path_factory.mktemp("inert")
    texts = [template.format(marker=root / "pwned") for template in chosen]
    handoff = load_handoff(poisoned_handoff(root, texts))
    assert handoff.contract is not None
    assert not (root / "pwned").exists()


def sidecar_with(root: Path, old: str, new: str) -> Path:
    folder = make_handoffs(root, ["PATHS-1"], sidecar_edits={old: new})
    return folder / "PATHS-1.md"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("promotion:", "report_dir: ../../outside\npromotion:", "leaves the project"),
        ("promotion:", "report_dir: /etc\npromotion:", "is absolute"),
        ("promotion:", "report_dir: ~/reports\npromotion:", "is absolute"),
        ("promotion:", "report_dir: .airflow\npromotion:", "holds the folder name '.airflow'"),
        ("promotion:", "report_dir: reports/../.git\npromotion:", "holds the folder name '..'"),
        ("    ux-portal-data: /data", "    /: /host", "is not a Docker volume name"),
        ("    ux-portal-data: /data", "    ../secrets: /data", "is not a Docker volume name"),
        ("    ux-portal-data: /data", "    ./here: /data", "is not a Docker volume name"),
        ("    ux-portal-data: /data", "    data: ../../x", "must be an absolute path"),
    ],
)
def test_a_sidecar_path_that_escapes_the_project_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    contract = sidecar_with(tmp_path, old, new)
    handoff = load_handoff(contract)
    [problem] = errors_in(handoff.diagnostics)
    sidecar = contract.with_name("PATHS-1.deploy.yaml")
    wanted = new.splitlines()[0]
    line = next(n for n, t in enumerate(sidecar.read_text().splitlines(), 1) if wanted in t)
    assert problem.path == sidecar and problem.line == line, problem.render()
    assert message in problem.message
    assert not handoff.deployable


def test_a_symlink_out_of_the_project_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    contract = sidecar_with(project, "promotion:", "report_dir: reports-link\npromotion:")
    (project / "reports-link").symlink_to(outside)
    [problem] = errors_in(load_handoff(contract).diagnostics)
    assert "leaves the project" in problem.message


def test_a_symlink_inside_the_project_is_refused_too(tmp_path: Path) -> None:
    project = tmp_path / "project"
    contract = sidecar_with(project, "promotion:", "report_dir: reports-link/ux\npromotion:")
    (project / "elsewhere").mkdir()
    (project / "reports-link").symlink_to(project / "elsewhere")
    [problem] = errors_in(load_handoff(contract).diagnostics)
    assert "passes through the symlink" in problem.message and "reports-link" in problem.message


def test_paths_inside_the_project_are_fine(tmp_path: Path) -> None:
    contract = sidecar_with(tmp_path, "promotion:", "report_dir: reports/ux\npromotion:")
    assert load_handoff(contract).deployable


def test_an_environment_report_dir_leaving_the_project_is_refused(tmp_path: Path) -> None:
    folder = make_handoffs(
        tmp_path, ["ENV-1"], environment_edits={"report_dir: reports": "report_dir: ../../x"}
    )
    [problem] = errors_in(load_handoff(folder / "ENV-1.md").diagnostics)
    assert problem.path.name == "demo.yaml" and problem.line is not None
    assert "leaves the project" in problem.message


# Pieces of path tricks: traversal, encodings of it, separators, NUL, absolute roots, and
# the characters Airflow's run ids really hold.
PATH_PIECES = [
    "..",
    ".",
    "/",
    "\\",
    "%2e",
    "%2f",
    "%5c",
    "\x00",
    "~",
    ":",
    "+",
    "-",
    "_",
    "manual__2026-12-01T10:00:00.123456+00:00",
    "report.json",
    "runs",
    "etc",
    "passwd",
    "link",
    "\u2024",  # one dot leader, looks like '.'
    " ",
]
path_tricks = st.lists(st.sampled_from(PATH_PIECES), min_size=1, max_size=8).map("".join) | st.text(
    max_size=40
)


@settings(max_examples=300, deadline=None)
@given(dag_id=path_tricks, run_id=path_tricks)
def test_any_run_id_is_refused_or_names_a_folder_three_levels_below_runs(
    dag_id: str, run_id: str
) -> None:
    from handoff.evidence import UnsafePath, run_dir

    base = Path("/nonexistent-report-folder")
    try:
        folder = run_dir(base, dag_id, run_id)
    except UnsafePath:
        return
    # Accepted: the folder stays exactly two names below runs/, whatever the id held.
    assert Path(os.path.normpath(folder)) == folder
    assert folder.parent.parent == base / "runs"
    assert folder.name not in {".", ".."} and not folder.name.startswith(".")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(path_tricks, min_size=1, max_size=4))
def test_any_file_name_is_refused_or_read_inside_the_folder(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    from handoff.safe_paths import UnsafePath, read_beneath

    root = tmp_path_factory.mktemp("served")
    secret = root / "passwords.json"
    secret.write_text("outside-the-folder")
    folder = root / "reports" / "runs" / "handoff_x"
    folder.mkdir(parents=True)
    # Everything a repository could commit to lure a reader out: links to the file and to
    # the folder above, at the names the generated parts are most likely to try.
    (root / "reports" / "runs" / "report.json").symlink_to(secret)
    (folder / "report.json").symlink_to(secret)
    (folder / "up").symlink_to(root)
    (folder / "inside.json").write_text("inside")
    try:
        content = read_beneath(folder, parts)
    except (UnsafePath, OSError):
        return
    target = Path(os.path.realpath(folder.joinpath(*parts)))
    assert target.is_relative_to(folder.resolve())
    assert content != b"outside-the-folder"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(report_dir=path_tricks)
def test_any_sidecar_report_dir_is_refused_or_a_real_folder_inside_the_project(
    tmp_path_factory: pytest.TempPathFactory, report_dir: str
) -> None:
    from handoff.evidence import report_dir_of

    root = tmp_path_factory.mktemp("report-dir")
    (root / "link").symlink_to(root.parent)
    quoted = report_dir.replace("'", "''")
    contract = sidecar_with(root, "promotion:", f"report_dir: '{quoted}'\npromotion:")
    handoff = load_handoff(contract)
    if not handoff.deployable:
        return
    folder = report_dir_of(handoff)
    assert folder.resolve().is_relative_to(root.resolve())
    relative = folder.relative_to(root.resolve())
    assert all(not p.startswith(".") for p in relative.parts)
    assert not any(
        (root.resolve() / Path(*relative.parts[:n])).is_symlink()
        for n in range(1, len(relative.parts) + 1)
    )
