"""The page reports an edit made during a deferred window, before any task has claimed it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from handoff.runtime.drift import Drift, claim
from handoff.ui.live_drift import run_drift


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_run(tmp_path: Path) -> tuple[Path, Path]:
    handoffs, environments = tmp_path / "handoffs", tmp_path / "environments"
    handoffs.mkdir()
    environments.mkdir()
    contract = handoffs / "H.md"
    files = {contract: b"contract", handoffs / "H.deploy.yaml": b"sidecar"}
    files[environments / "demo.yaml"] = b"environment"
    for path, data in files.items():
        path.write_bytes(data)
    run = tmp_path / "run"
    (run / "snapshot" / "environments").mkdir(parents=True)
    (run / "snapshot" / "environments" / "demo.yaml").write_bytes(b"environment")
    manifest = {
        "dag_id": "handoff_h",
        "run_id": "r",
        "contract_path": str(contract),
        "hashes": {"contract": sha(b"contract"), "sidecar": sha(b"sidecar"),
                   "environment": sha(b"environment")},
        "settings": {},
        "taken_at": "2026-12-03T06:00:00+00:00",
        "expires_at": "2026-12-04T06:00:00+00:00",
    }  # fmt: skip
    (run / "snapshot" / "snapshot.json").write_text(json.dumps(manifest))
    return run, tmp_path


def test_an_unclaimed_edit_is_shown_and_a_claimed_one_once(tmp_path: Path) -> None:
    run, root = make_run(tmp_path)
    assert run_drift(run) == []
    (root / "handoffs" / "H.deploy.yaml").write_bytes(b"edited")
    [unseen] = run_drift(run)
    assert (unseen.role, unseen.live_sha256, unseen.seen_by) == ("sidecar", sha(b"edited"), "")
    assert (
        claim(run, Drift("sidecar", unseen.path, sha(b"sidecar"), sha(b"edited")), "t") is not None
    )
    [claimed] = run_drift(run)
    assert claimed.seen_by == "t"
    (root / "environments" / "demo.yaml").unlink()
    assert [(d.role, d.deleted) for d in run_drift(run)] == [
        ("sidecar", False),
        ("environment", True),
    ]


def test_no_snapshot_yet_means_only_what_was_recorded(tmp_path: Path) -> None:
    assert run_drift(tmp_path / "nothing") == []
