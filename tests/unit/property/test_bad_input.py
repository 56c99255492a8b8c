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
    ROOT,
    SEED_TEXT,
    SIDECAR_TEXT,
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


# Issue 14: nesting, number sizes and line lengths that broke the readers. Every one must end
# in a contract or in located errors; RecursionError, ValueError, OverflowError or a crash fail.
_NESTERS = ["> ", "- ", "1. ", "  ", ">", "* ", "**", "![", "[", "_", "~~", "> - ", "\t"]
_SEED_JSON = (ROOT / "tests" / "fixtures" / "contracts" / "valid" / "whole_file.json").read_text()


@st.composite
def deeply_nested_markdown(draw: st.DrawFn) -> str:
    lines = SEED_TEXT.split("\n")
    at = draw(st.integers(0, len(lines)))
    opener = draw(st.sampled_from(_NESTERS))
    depth = draw(st.one_of(st.integers(1, 80), st.integers(80, 60_000)))
    closer = {"**": "**", "![": "](u)", "[": "](u)", "_": "_", "~~": "~~"}.get(opener, "")
    lines.insert(at, opener * depth + "x" + closer * draw(st.sampled_from([0, depth])))
    return "\n".join(lines)


@st.composite
def deeply_nested_json(draw: st.DrawFn) -> str:
    depth = draw(st.one_of(st.integers(1, 40), st.integers(40, 200_000)))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}"), ('[{"b": ', "}]")]))
    inner = draw(st.sampled_from(["1", '"x"', "null", "[]"]))
    value = opener * depth + inner + closer * draw(st.sampled_from([depth, depth // 2, 0]))
    return _SEED_JSON.replace('"Roll out search API v7 behind the blue-green router."', value, 1)


@st.composite
def huge_numbers_and_long_lines(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(
        st.one_of(st.integers(1, 30), st.integers(4_000, 5_000), st.integers(5_000, 80_000))
    )
    number = "9" * digits
    suffix = draw(st.sampled_from([".md", ".json"]))
    if suffix == ".json":
        value = draw(st.sampled_from([number, f"-{number}", f"{number}.5", f"1e{number[:6]}"]))
        return suffix, _SEED_JSON.replace('"<45 minutes"', value, 1)
    unit = draw(
        st.sampled_from([" hours", " ms", "%", " x", "", " - minutes", "                d"])
    )
    line = draw(st.sampled_from(["- Deploy time < {}", "- **Deployment Window**: within {}", "{}"]))
    return suffix, SEED_TEXT.replace(
        "- **Deployment Time**", line.format(number + unit) + "\n- **Deployment Time**", 1
    )


def _parse_text(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contract{suffix}"
        path.write_text(text, encoding="utf-8")
        result = parse_contract(path)  # any exception fails the property
    assert (result.contract is None) == bool(errors_in(result.diagnostics))
    assert_located(result.diagnostics, path)
    assert not any("unexpected" in d.message for d in result.diagnostics), result.diagnostics


FEW = settings(BOUNDED, max_examples=60)


@FEW
@given(text=deeply_nested_markdown())
def test_deep_markdown_is_a_contract_or_located_errors(text: str) -> None:
    _parse_text(text, ".md")


@FEW
@given(text=deeply_nested_json(), embedded=st.booleans())
def test_deep_json_is_a_contract_or_located_errors(text: str, embedded: bool) -> None:
    if embedded:  # the same JSON as a fenced block in markdown
        _parse_text(f"# Report\n\n```json\n{text}\n```\n", ".md")
    else:
        _parse_text(text, ".json")


@FEW
@given(case=huge_numbers_and_long_lines())
def test_huge_numbers_and_long_lines_are_a_contract_or_located_errors(
    case: tuple[str, str],
) -> None:
    suffix, text = case
    _parse_text(text, suffix)


@FEW
@given(
    key=st.sampled_from(["port", "accepted_at", "notice_lead", "deploy_at"]),
    value=st.one_of(
        st.integers(4_000, 6_000).map(lambda n: "9" * n),
        st.sampled_from(["2026-02-30", "2026-13-01", "2026-02-29T25:00:00Z", "9999-12-31", ".inf"]),
        st.integers(20, 400).map(lambda n: "9" * n + " hours"),
    ),
)
def test_huge_or_impossible_sidecar_values_give_located_errors(key: str, value: str) -> None:
    text = SIDECAR_TEXT
    if f"{key}:" in text:
        text = "\n".join(
            (line.split(":", 1)[0] + f": {value}" if line.lstrip().startswith(f"{key}:") else line)
            for line in text.split("\n")
        )
    else:
        text += f"\n{key}: {value}\n"
    with tempfile.TemporaryDirectory() as folder:
        handoffs = make_handoffs(Path(folder), ["PROD-DEPLOYMENT-001"])
        (handoffs / "PROD-DEPLOYMENT-001.deploy.yaml").write_text(text, encoding="utf-8")
        handoff = load_handoff(handoffs / "PROD-DEPLOYMENT-001.md")
    for problem in errors_in(handoff.diagnostics):
        assert problem.line is not None, problem.render()
        assert "unexpected" not in problem.message, problem.render()
    assert handoff.deployable == (not errors_in(handoff.diagnostics))
