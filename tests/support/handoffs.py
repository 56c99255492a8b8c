"""Build folders of handoffs (contract + sidecar + environment) for DAG tests."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"
SEED_SIDECAR = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.deploy.yaml"
DEMO_ENVIRONMENT = ROOT / "include" / "environments" / "demo.yaml"
OBSERVABILITY_SECTION = "observability:\n  network: handoff-observability\n"
SEED_ID = "PROD-DEPLOYMENT-001"
SEED_ACCEPTED_AT = "accepted_at: 2026-11-27T09:00:00Z"
# The seed contract's pre-deploy notice (24 hours before), which a rehearsal owes as well.
SEED_NOTICE = timedelta(hours=24)
# What a drill answers at the human gates. The trigger form leaves them empty (a person is
# asked), so every drill that must not wait for a person writes them, as a person would.
REHEARSAL_ANSWERS = {
    "answer_go_no_go": "approve",
    "answer_user_issues": "none reported",
    "answer_handover": "accept handover",
}


def rehearsal_conf(**conf: Any) -> dict[str, Any]:
    """Return a drill's conf: deploy a full notice from now, explicit answers; `conf` overrides.

    The window and the notice hold in a rehearsal too, so the handoff must have been accepted
    recently (``make_handoffs(..., accepted_now=True)``) and the deploy given its notice.
    """
    deploy_at = (datetime.now(UTC) + SEED_NOTICE).isoformat()
    return {"deploy_at": deploy_at, **REHEARSAL_ANSWERS, **conf}


def make_handoffs(
    root: Path,
    ids: list[str],
    sidecar_edits: dict[str, str] | None = None,
    environment_edits: dict[str, str] | None = None,
    accepted_now: bool = False,
    observed: bool = False,
) -> Path:
    """Write one seed-based handoff per id under root/handoffs; return that folder.

    ``sidecar_edits`` and ``environment_edits`` replace text in every sidecar / the
    environment (e.g. ports), so tests can run side by side without sharing a router.
    ``accepted_now`` makes the acceptance a minute old, so the deployment window is open for
    a run (the seed's own acceptance, 2026-11-27, has a window long closed).
    ``observed`` keeps the demo environment's observability section (Prometheus registers
    and judges the service); without it the copy has none, so a test that is not about
    monitoring neither waits for the machine's Prometheus nor shares its alerting.
    """
    if accepted_now:
        accepted = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sidecar_edits = {SEED_ACCEPTED_AT: f"accepted_at: {accepted}", **(sidecar_edits or {})}
    handoffs = root / "handoffs"
    environments = root / "environments"
    handoffs.mkdir(parents=True, exist_ok=True)
    environments.mkdir(parents=True, exist_ok=True)
    environment = DEMO_ENVIRONMENT.read_text()
    if not observed:
        assert OBSERVABILITY_SECTION in environment, "the demo environment's section changed"
        environment = environment.replace(OBSERVABILITY_SECTION, "")
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
