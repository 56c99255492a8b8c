"""The demo releases' migrations, as their images ship them, follow the blue-green rules.

The demo's migration command reads the files (no database needed for that) and the product's
rules judge what each release would report on an empty database and after the previous one.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from handoff.checks.database import Pending, SchemaStatus, plan

SERVICE = Path(__file__).resolve().parents[3] / "include" / "demo" / "service"
BUILD = SERVICE.parent / "scripts" / "build-images.sh"


def _migrate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_migrate", SERVICE / "migrate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def _shipped(release: str) -> list[str]:
    """Return the migration files build-images.sh gives a release."""
    text = BUILD.read_text()
    found = re.search(rf'^\s*{re.escape(release)}(?: \| \*)?\) echo "([^|]*)\|', text, re.M)
    assert found, f"build-images.sh has no schema for {release}"
    return found.group(1).split()


def _pending(release: str, tmp_path: Path, applied: set[int]) -> SchemaStatus:
    folder = tmp_path / release
    folder.mkdir()
    for name in _shipped(release):
        shutil.copy(SERVICE / "migrations" / name, folder)
    migrations = _migrate().load(folder)
    known = {m.version: m for m in migrations}
    pending = tuple(
        Pending(
            m.file,
            m.version,
            m.phase,
            bool(m.down.strip()),
            m.completes,
            known[m.completes].phase if m.completes in known else "",
        )
        for m in migrations
        if m.version not in applied
    )
    return SchemaStatus(True, max(applied, default=0), max(known), pending)


@pytest.mark.parametrize(
    ("release", "applied", "expand", "contract"),
    [
        ("1.0.0", set(), ["0001_records.sql"], []),
        ("1.1.0", {1}, ["0002_origin.sql"], []),
        ("1.2.0", {1, 2}, [], ["0003_drop_release.sql"]),
        ("1.2.0", {1}, ["0002_origin.sql"], ["0003_drop_release.sql"]),
        # The bad release passes preflight: only the old colour's smoke rerun catches it.
        ("1.1.0-bad-expand", {1}, ["0002_rename_colour.sql"], []),
    ],
)
def test_each_release_plans_its_steps_by_phase(
    tmp_path: Path, release: str, applied: set[int], expand: list[str], contract: list[str]
) -> None:
    found = plan(_pending(release, tmp_path, applied))
    assert found.ok, found.problems
    assert [p.file for p in found.expand] == expand
    assert [p.file for p in found.contract] == contract


def test_every_expand_of_the_good_releases_has_a_down_step(tmp_path: Path) -> None:
    migrations = _migrate().load(_copy(tmp_path))
    for m in migrations:
        assert m.phase in ("expand", "contract"), m.file
        if m.phase == "expand":
            assert m.down.strip(), f"{m.file} has no down step"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    folder.mkdir()
    for name in _shipped("1.2.0"):
        shutil.copy(SERVICE / "migrations" / name, folder)
    return folder


def test_two_files_with_one_version_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r'"file": "0002_rename_colour.sql", "field": "version"'):
        _migrate().load(SERVICE / "migrations")
