"""Property tests: bad contracts and sidecars never end in a traceback, always in a located error.

Examples are bounded (the whole module runs in seconds) so it belongs to the normal suite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.acceptance import Acceptance, Environment, load_yaml_model
from handoff.acceptance.yaml_files import MAX_EXPANDED_NODES, MAX_SETTINGS_BYTES
from handoff.catalog import load_handoff
from handoff.contract import parse_contract
from handoff.contract.source import MAX_CONTRACT_BYTES
from handoff.errors import Diagnostic, errors_in
from tests.support.handoffs import make_handoffs
from tests.unit.property.strategies import (
    contract_bytes,
    sidecar_documents,
    sidecar_text_mutations,
)

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def assert_located(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], path: Path) -> None:
    """Every error names the file and a line in it."""
    for problem in errors_in(diagnostics):
        assert problem.path == path, problem.render()
        assert problem.line is not None and problem.line >= 1, problem.render()
        assert problem.render().startswith(f"{path}:{problem.line}: error: ")


@BOUNDED
@given(data=contract_bytes(), suffix=st.sampled_from([".md", ".json", ".markdown"]))
def test_any_contract_bytes_give_a_contract_or_located_errors(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contract{suffix}"
        path.write_bytes(data)
        result = parse_contract(path)  # a traceback here fails the property
    assert (result.contract is None) == bool(errors_in(result.diagnostics))
    assert_located(result.diagnostics, path)


def write_yaml(folder: Path, document: object) -> Path:
    path = folder / "x.deploy.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return path


@BOUNDED
@given(document=sidecar_documents())
def test_any_sidecar_document_loads_or_gives_located_errors(document: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_yaml(Path(folder), document)
        loaded, problems = load_yaml_model(path, Acceptance)
    assert (loaded is None) == bool(errors_in(problems))
    assert_located(problems, path)


@BOUNDED
@given(text=sidecar_text_mutations())
def test_any_mutated_sidecar_text_loads_or_gives_located_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.deploy.yaml"
        path.write_text(text, encoding="utf-8")
        loaded, problems = load_yaml_model(path, Acceptance)
    assert (loaded is None) == bool(errors_in(problems))
    assert_located(problems, path)


@settings(max_examples=40, deadline=None)
@given(text=sidecar_text_mutations())
def test_a_whole_handoff_with_a_mutated_sidecar_never_raises(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        handoffs = make_handoffs(Path(folder), ["PROP-1"])
        sidecar = handoffs / "PROP-1.deploy.yaml"
        sidecar.write_text(text, encoding="utf-8")
        handoff = load_handoff(handoffs / "PROP-1.md")
        for problem in errors_in(handoff.diagnostics):
            assert problem.line is not None, problem.render()
    assert handoff.deployable == (not errors_in(handoff.diagnostics))


def test_a_huge_contract_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(b"# HANDOFF/V1\n" + b"x" * (MAX_CONTRACT_BYTES + 1))
    result = parse_contract(path)
    [problem] = errors_in(result.diagnostics)
    assert "MiB; a contract is at most 1 MiB" in problem.render()
    assert problem.render().startswith(f"{path}:1: error: the file is 1.0 MiB")


def test_a_huge_sidecar_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.deploy.yaml"
    path.write_text("handoff_id: X\n" + "# padding\n" * (MAX_SETTINGS_BYTES // 10 + 1))
    _, problems = load_yaml_model(path, Acceptance)
    [problem] = problems
    assert problem.render().startswith(f"{path}:1: error: the file is ")
    assert f"settings are at most {MAX_SETTINGS_BYTES} bytes" in problem.message


def test_a_small_file_that_expands_hugely_through_aliases_is_refused(tmp_path: Path) -> None:
    # "Billion laughs": 9 levels of 9 aliases each stand for 9**9 strings in 1 KiB of YAML.
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = tmp_path / "laughs.deploy.yaml"
    path.write_text("\n".join(lines) + "\n")
    _, problems = load_yaml_model(path, Environment)
    [problem] = problems
    assert (
        f"has over {MAX_EXPANDED_NODES} nodes once its aliases are written out" in problem.message
    )
    assert problem.line == 1


def test_a_recursive_alias_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    recursive = tmp_path / "recursive.deploy.yaml"
    recursive.write_text("handoff_id: &a [*a]\n")
    _, problems = load_yaml_model(recursive, Acceptance)
    assert [p.line for p in problems] == [1] and "recursive alias" in problems[0].message
    deep = tmp_path / "deep.deploy.yaml"
    deep.write_text("handoff_id: " + "[" * 20_000 + "]" * 20_000 + "\n")
    _, problems = load_yaml_model(deep, Acceptance)
    assert [p.line for p in problems] == [1], problems
    assert "levels of nesting" in problems[0].message or "nests too deeply" in problems[0].message


def test_yaml_tags_that_would_run_code_are_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "x.deploy.yaml"
    path.write_text(f"handoff_id: !!python/object/apply:os.system ['touch {marker}']\n")
    _, problems = load_yaml_model(path, Acceptance)
    assert problems and problems[0].line == 1 and "invalid YAML" in problems[0].message
    assert not marker.exists()
