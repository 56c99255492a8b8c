"""Where a run's evidence lives: one JSON file per task under the run's report directory.

One file per task keeps writers apart (gate tasks run in parallel) and makes a retry
idempotent: the new try replaces what the previous one wrote. The report reads them all.
All workers of a run must see the same report directory (one machine, or a shared volume).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from handoff.catalog import Handoff
from handoff.evidence.model import Evidence

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_dir_of(handoff: Handoff) -> Path:
    """Return the handoff's report directory (sidecar override, else the environment's).

    A relative directory is resolved against the folder holding the handoffs folder
    (`include/` for `include/handoffs/`), never against the worker's working directory.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    report_dir = Path(handoff.acceptance.report_dir or handoff.environment.report_dir)
    if not report_dir.is_absolute():
        report_dir = handoff.contract_path.resolve().parent.parent / report_dir
    return report_dir


def run_dir(report_dir: Path, dag_id: str, run_id: str) -> Path:
    """Return the folder of one run's evidence and reports; run ids hold ':' and '+'."""
    return report_dir / "runs" / _UNSAFE.sub("_", dag_id) / _UNSAFE.sub("_", run_id)


class EvidenceStore:
    """The evidence of one run, in `<run_dir>/evidence/<task_id>.json`."""

    def __init__(self, run_directory: Path) -> None:
        self.folder = run_directory / "evidence"

    def write(self, task_id: str, records: list[Evidence]) -> Path:
        """Replace the task's records atomically (a reader never sees half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{_UNSAFE.sub('_', task_id)}.json"
        payload = json.dumps([r.to_json() for r in records], indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(payload)
        Path(tmp).replace(path)
        return path

    def read_all(self) -> list[Evidence]:
        """Return every record of the run, oldest first."""
        if not self.folder.is_dir():
            return []
        records = [
            Evidence.from_json(item)
            for path in sorted(self.folder.glob("*.json"))
            for item in json.loads(path.read_text(encoding="utf-8"))
        ]
        return sorted(records, key=lambda r: (r.at, r.task_id, r.criterion))
