"""Drift: a live file of a handoff changed (or went away) while a run works on its snapshot.

Every task compares the live files' hashes with the snapshot's. Each new version of a file
is claimed once per run, by whichever task sees it first (an exclusive create in
``<run folder>/drift/``), so it is logged once and announced once however many tasks run in
parallel, and the report reads the claims back. Nothing of the edit applies to the run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from handoff.runtime.snapshot import Snapshot, sha256_of

DRIFT_FOLDER = "drift"


@dataclass(frozen=True)
class Drift:
    """One live file whose bytes differ from the run's snapshot."""

    role: str  # "contract", "sidecar" or "environment"
    path: str
    snapshot_sha256: str
    live_sha256: str  # "" when the file was deleted
    seen_at: str = ""
    seen_by: str = ""

    @property
    def deleted(self) -> bool:
        return not self.live_sha256

    def describe(self) -> str:
        """Return the one line that logs, announces and reports this drift."""
        change = "was deleted" if self.deleted else "changed"
        live = "deleted" if self.deleted else f"live sha256 {self.live_sha256[:12]}"
        return (
            f"the {self.role} {change} during the run; this run keeps the version it started "
            f"with ({Path(self.path).name}: snapshot sha256 {self.snapshot_sha256[:12]}, {live})"
        )


def compare(snapshot: Snapshot, live: dict[str, Path]) -> list[Drift]:
    """Return the live files whose hash differs from the snapshot's."""
    found = []
    for role, path in live.items():
        frozen = snapshot.hashes.get(role, "")
        now = sha256_of(path)
        if now != frozen:
            found.append(Drift(role, str(path), frozen, now))
    return found


def _claim_path(run_folder: Path, drift: Drift) -> Path:
    return run_folder / DRIFT_FOLDER / f"{drift.role}-{drift.live_sha256[:16] or 'deleted'}.json"


def claim(run_folder: Path, drift: Drift, task_id: str) -> Drift | None:
    """Record a drift for the run; return it if this call was first, else None."""
    path = _claim_path(run_folder, drift)
    path.parent.mkdir(parents=True, exist_ok=True)
    seen = Drift(
        drift.role,
        drift.path,
        drift.snapshot_sha256,
        drift.live_sha256,
        datetime.now(UTC).isoformat(),
        task_id,
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(seen), out, indent=2, sort_keys=True)
    return seen


def recorded(run_folder: Path) -> list[Drift]:
    """Return every drift claimed in a run, in the order it was seen."""
    folder = run_folder / DRIFT_FOLDER
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        try:
            found.append(Drift(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # being written right now: the next reader sees it
    return sorted(found, key=lambda d: d.seen_at)
