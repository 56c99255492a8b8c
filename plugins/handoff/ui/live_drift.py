"""Drift as the page sees it now: the run's recorded claims, and live files that differ from the
run's snapshot although no task has looked yet.

Tasks claim a drift when they start (runtime/drift.py), but a watch window waits deferred for
up to 72 h without a task starting: an edit made meanwhile would stay unseen until the window
ends. The page compares the live files' hashes with the snapshot's itself (three small files,
at most once per fragment interval); it reports, it never claims, so the tasks still log and
announce each drift once.
"""

from __future__ import annotations

from pathlib import Path

from handoff.catalog import sidecar_path_for
from handoff.runtime.drift import Drift, compare, recorded
from handoff.runtime.snapshot import SNAPSHOT_FOLDER, Snapshot


def _live_files(snapshot: Snapshot) -> dict[str, Path]:
    """The live files the snapshot was taken from (the environment by the snapshot's file name)."""
    contract = snapshot.contract_path
    files = {"contract": contract, "sidecar": sidecar_path_for(contract)}
    frozen = sorted((snapshot.folder / "environments").glob("*.yaml"))
    if len(frozen) == 1:
        files["environment"] = contract.parent.parent / "environments" / frozen[0].name
    return files


def run_drift(run_folder: Path) -> list[Drift]:
    """Return the run's recorded drift, then any live difference no task has claimed yet."""
    claimed = recorded(run_folder)
    try:
        snapshot = Snapshot.read(run_folder / SNAPSHOT_FOLDER)
    except (OSError, ValueError, KeyError, TypeError):
        return claimed  # no snapshot yet (preflight has not run) or unreadable
    seen = {(d.role, d.live_sha256) for d in claimed}
    unseen = [
        d for d in compare(snapshot, _live_files(snapshot)) if (d.role, d.live_sha256) not in seen
    ]
    return claimed + unseen
