"""Build folders of handoffs (contract + sidecar + environment) for DAG tests."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"
SEED_SIDECAR = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.deploy.yaml"
DEMO_ENVIRONMENT = ROOT / "include" / "environments" / "demo.yaml"
SEED_ID = "PROD-DEPLOYMENT-001"


def make_handoffs(
    root: Path,
    ids: list[str],
    sidecar_edits: dict[str, str] | None = None,
    environment_edits: dict[str, str] | None = None,
) -> Path:
    """Write one seed-based handoff per id under root/handoffs; return that folder.

    ``sidecar_edits`` and ``environment_edits`` replace text in every sidecar / the
    environment (e.g. ports), so tests can run side by side without sharing a router.
    """
    handoffs = root / "handoffs"
    environments = root / "environments"
    handoffs.mkdir(parents=True, exist_ok=True)
    environments.mkdir(parents=True, exist_ok=True)
    environment = DEMO_ENVIRONMENT.read_text()
    for old, new in (environment_edits or {}).items():
        environment = environment.replace(old, new)
    (environments / "demo.yaml").write_text(environment)
    for handoff_id in ids:
        contract = SEED.read_bytes().replace(SEED_ID.encode(), handoff_id.encode())
        (handoffs / f"{handoff_id}.md").write_bytes(contract)
        sidecar = SEED_SIDECAR.read_text().replace(SEED_ID, handoff_id)
        for old, new in (sidecar_edits or {}).items():
            sidecar = sidecar.replace(old, new)
        (handoffs / f"{handoff_id}.deploy.yaml").write_text(sidecar)
    return handoffs


def copy_file(source: Path, target: Path) -> None:
    """Copy a fixture file into a handoffs folder."""
    shutil.copyfile(source, target)
