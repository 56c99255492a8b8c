"""Broken contracts: each gives its own message with file and line, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.catalog import load_catalog
from handoff.contract import load_contract, parse_contract
from handoff.contract.source import MAX_CONTRACT_BYTES
from handoff.errors import Diagnostic, InputError
from tests.conftest import FIXTURES, SEED

BROKEN = FIXTURES / "contracts" / "broken"


def only_error(path: Path) -> Diagnostic:
    result = parse_contract(path)
    assert result.contract is None
    errors = [d for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("no_handoff_id.md", 3, r"no Handoff ID \(expected a '\*\*Handoff ID\*\*: \.\.\.' line"),
        (
            "bad_timestamp.md",
            7,
            r"Timestamp 'yesterday afternoon' is not an ISO 8601 date and time",
        ),
        ("bad_json.json", 6, r"invalid JSON: Expecting ',' delimiter"),
        ("not_a_contract.md", 1, r"not a HANDOFF/V1 contract"),
        ("empty.md", 1, r"the file is empty"),
        ("binary_garbage.md", 1, r"binary content, not text: byte 0x03 at offset 2"),
    ],
)
def test_broken_contract_message(name: str, line: int, message: str) -> None:
    error = only_error(BROKEN / name)
    assert error.line == line
    assert error.render().startswith(f"{BROKEN / name}:{line}: error: ")
    assert re.search(message, error.message + (f" ({error.hint})" if error.hint else ""))


def test_five_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    text = SEED.read_bytes()
    path.write_bytes(text * (5 * 1024 * 1024 // len(text) + 1))
    error = only_error(path)
    assert error.line == 1
    assert error.message.startswith("the file is 5.0 MiB; a contract is at most")
    assert len(path.read_bytes()) > MAX_CONTRACT_BYTES


def test_duplicate_ids_across_files() -> None:
    catalog = load_catalog([BROKEN / "duplicates"])
    errors = [d for d in catalog.diagnostics() if d.is_error]
    assert len(errors) == 1
    assert errors[0].path.name == "second.md" and errors[0].line == 4
    assert errors[0].message == (
        f"handoff id 'DUP-ID-1' is already used by {BROKEN / 'duplicates' / 'first.md'}:7"
    )
    # The first file keeps its DAG: one bad file breaks only itself.
    first = next(h for h in catalog.handoffs if h.contract_path.name == "first.md")
    assert first.contract is not None


def test_load_contract_raises_with_every_error() -> None:
    with pytest.raises(InputError, match=r"bad_timestamp.md:7: error: Timestamp"):
        load_contract(BROKEN / "bad_timestamp.md")


def test_unreadable_path_is_a_diagnostic(tmp_path: Path) -> None:
    error = only_error(tmp_path / "missing.md")
    assert "cannot read the file" in error.message
