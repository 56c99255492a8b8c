"""The handoff cache: a hit returns what a fresh load would; any edit is a miss."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff import handoff_cache
from handoff.catalog import load_handoff
from handoff.contract_ids import contract_ids

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(handoff_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    shutil.copytree(ROOT / "include" / "environments", tmp_path / "environments")
    folder = tmp_path / "handoffs"
    folder.mkdir()
    for name in (SEED.name, "PROD-DEPLOYMENT-001.deploy.yaml"):
        shutil.copy(SEED.parent / name, folder / name)
    return folder / SEED.name


def entries(contract: Path) -> int:
    return len(list((contract.parent.parent / "cache").glob("*.pickle")))


def test_a_second_load_is_a_hit_and_equal(project: Path) -> None:
    first = load_handoff(project)
    assert entries(project) == 1
    assert load_handoff(project) == first
    assert entries(project) == 1


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("PROD-DEPLOYMENT-001.md", "UX Phase 2", "UX Phase 3"),
        ("PROD-DEPLOYMENT-001.deploy.yaml", "ux-portal", "ux-portal-two"),
        ("../environments/demo.yaml", "18080", "18090"),
    ],
)
def test_an_edit_to_any_input_is_a_miss(project: Path, file: str, old: str, new: str) -> None:
    before = load_handoff(project)
    edited = project.parent / file
    text = edited.read_text()
    assert old in text
    edited.write_text(text.replace(old, new))
    after = load_handoff(project)
    assert after != before
    assert entries(project) == 2


def test_a_damaged_entry_is_a_miss(project: Path) -> None:
    expected = load_handoff(project)
    [entry] = (project.parent.parent / "cache").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_handoff(project) == expected


def test_off_switches_the_cache_off(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(handoff_cache.CACHE_DIR_ENV, "off")
    load_handoff(project)
    assert not (project.parent.parent / "cache").exists()


def test_contract_ids_come_from_the_index_after_the_first_parse(project: Path) -> None:
    [found] = contract_ids([project]).values()
    assert (found.handoff_id, found.line) == ("PROD-DEPLOYMENT-001", 7)
    index = project.parent.parent / "cache" / "contract-ids.json"
    assert index.is_file()
    index.write_text(index.read_text().replace("PROD-DEPLOYMENT-001", "FROM-THE-INDEX"))
    assert contract_ids([project])[project].handoff_id == "FROM-THE-INDEX"
