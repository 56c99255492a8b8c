"""`make run` serves a copy of the handoffs whose expired demo acceptances are renewed."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from handoff.catalog import load_handoff
from handoff.errors import errors_in
from handoff.runtime.settings import resolve_run_settings
from tests.conftest import ROOT
from tests.support.handoffs import make_handoffs


def demo_project() -> ModuleType:
    path = ROOT / "include/demo/scripts/demo_project.py"
    spec = importlib.util.spec_from_file_location("demo_project", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_project"] = module
    spec.loader.exec_module(module)
    return module


NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def copy_of(source: Path, home: Path, said: list[str]) -> tuple[ModuleType, object, Path]:
    module = demo_project()
    project = module.DemoProject(source, home, NOW, said.append)
    return module, project, project.prepare()


def test_the_seed_is_accepted_again_in_the_copy_and_never_in_the_source(tmp_path: Path) -> None:
    source = make_handoffs(tmp_path / "repo" / "include", ["SEED-1"])
    committed = {p.name: p.read_bytes() for p in source.iterdir()}
    said: list[str] = []
    _, _, handoffs = copy_of(source, tmp_path / "home", said)

    assert {p.name: p.read_bytes() for p in source.iterdir()} == committed
    assert (handoffs / "SEED-1.md").read_bytes() == committed["SEED-1.md"]
    sidecar = (handoffs / "SEED-1.deploy.yaml").read_text()
    assert "accepted_at: 2026-12-02T10:00:00Z  # renewed by make run for the demo" in sidecar
    assert "committed: 2026-11-27T09:00:00Z" in sidecar
    [line] = said
    assert "SEED-1.md" in line and "2026-11-27T09:00:00Z" in line and "never in" in line

    handoff = load_handoff(handoffs / "SEED-1.md")
    assert handoff.deployable, [d.render() for d in errors_in(handoff.diagnostics)]
    assert handoff.plan is not None
    settings = resolve_run_settings(handoff.plan, {"time_scale": 7200}, NOW + timedelta(minutes=5))
    assert settings.rehearsal
    # The committed acceptance is refused, as it must be.
    original = load_handoff(source / "SEED-1.md")
    assert original.plan is not None and original.plan.window_closes_at is not None
    assert original.plan.window_closes_at < NOW


def test_open_windows_and_other_environments_are_copied_unchanged(tmp_path: Path) -> None:
    fresh = make_handoffs(tmp_path / "a" / "include", ["FRESH-1"], accepted_now=True)
    said: list[str] = []
    module = demo_project()
    project = module.DemoProject(fresh, tmp_path / "home-a", datetime.now(UTC), said.append)
    handoffs = project.prepare()
    sidecar = fresh / "FRESH-1.deploy.yaml"
    assert (handoffs / sidecar.name).read_bytes() == sidecar.read_bytes()
    assert said == []

    other = make_handoffs(
        tmp_path / "b" / "include",
        ["OTHER-1"],
        sidecar_edits={"environment: demo": "environment: staging"},
    )
    (other.parent / "environments" / "demo.yaml").rename(
        other.parent / "environments" / "staging.yaml"
    )
    _, _, copied = copy_of(other, tmp_path / "home-b", said)
    assert (copied / "OTHER-1.deploy.yaml").read_bytes() == (
        other / "OTHER-1.deploy.yaml"
    ).read_bytes()


def test_the_copy_follows_the_source_and_shares_its_environments(tmp_path: Path) -> None:
    source = make_handoffs(tmp_path / "repo" / "include", ["ONE-1", "TWO-1"])
    said: list[str] = []
    _, project, handoffs = copy_of(source, tmp_path / "home", said)
    environments = handoffs.parent / "environments"
    assert environments.is_symlink()
    assert environments.resolve() == (source.parent / "environments").resolve()

    (source / "TWO-1.md").unlink()
    (source / "TWO-1.deploy.yaml").unlink()
    contract = (source / "ONE-1.md").read_text()
    (source / "ONE-1.md").write_text(contract.replace("Objective", "Objective (edited)", 1))
    project.sync()  # type: ignore[attr-defined]
    assert sorted(p.name for p in handoffs.iterdir()) == ["ONE-1.deploy.yaml", "ONE-1.md"]
    assert (handoffs / "ONE-1.md").read_bytes() == (source / "ONE-1.md").read_bytes()
    assert any("TWO-1.md was removed" in line for line in said)
    # Renewal is announced once per contract, however often the copy is refreshed.
    assert sum("ONE-1.md: its acceptance" in line for line in said) == 1
