"""A sidecar mounts only its own service's volumes, or those its environment allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.catalog import load_handoff
from handoff.errors import errors_in
from tests.support.handoffs import make_handoffs

SEED_VOLUME = "    ux-portal-data: /data"


def handoff_with(root: Path, volume: str, allowed: str | None = None) -> Path:
    environment_edits = {}
    if allowed is not None:
        environment_edits = {"report_dir: reports\n": f"report_dir: reports\n{allowed}\n"}
    folder = make_handoffs(
        root,
        ["VOL-1"],
        sidecar_edits={SEED_VOLUME: f"    {volume}: /data"},
        environment_edits=environment_edits,
    )
    return folder / "VOL-1.md"


@pytest.mark.parametrize(
    ("volume", "why"),
    [
        ("shop-data", "only its own volumes, named ux-portal-*"),
        ("ux-portal-router-state", "kept for the engine and the compose stack"),
        ("other-router-state", "only its own volumes"),
        ("handoff_airflow-auth", "only its own volumes"),
        ("handoff_postgres-data", "only its own volumes"),
        ("ux-portaldata", "only its own volumes"),
    ],
)
def test_a_volume_of_someone_else_is_a_located_error(tmp_path: Path, volume: str, why: str) -> None:
    contract = handoff_with(tmp_path, volume)
    handoff = load_handoff(contract)
    [problem] = errors_in(handoff.diagnostics)
    sidecar = contract.with_name("VOL-1.deploy.yaml")
    line = next(n for n, t in enumerate(sidecar.read_text().splitlines(), 1) if volume in t)
    assert problem.path == sidecar and problem.line == line, problem.render()
    assert problem.message.startswith(f"service.volumes: volume {volume!r} may not be mounted")
    assert why in problem.message
    assert problem.hint and "volumes.allowed" in problem.hint and "demo.yaml" in problem.hint
    assert not handoff.deployable


def test_own_volumes_are_fine(tmp_path: Path) -> None:
    assert load_handoff(handoff_with(tmp_path, "ux-portal-uploads")).deployable


def test_the_environment_may_allow_a_shared_volume(tmp_path: Path) -> None:
    contract = handoff_with(tmp_path, "shared-assets", "volumes:\n  allowed: [shared-assets]")
    assert load_handoff(contract).deployable


def test_an_allowed_list_lets_a_reserved_name_through_only_when_it_is_named(
    tmp_path: Path,
) -> None:
    allowed = "volumes:\n  allowed: [shared-assets]"
    contract = handoff_with(tmp_path, "ux-portal-router-state", allowed)
    assert not load_handoff(contract).deployable
