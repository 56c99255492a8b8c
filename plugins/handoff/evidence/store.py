"""Where a run's evidence lives: one JSON file per task under the run's report directory.

One file per task keeps writers apart (gate tasks run in parallel) and makes a retry
idempotent: the new try replaces what the previous one wrote. The report reads them all.
All workers of a run must see the same report directory (one machine, or a shared volume).
Ids and file names are checked, and files reached without following symlinks, by
`handoff.safe_paths` (the report folder may hold whatever a repository committed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from handoff.acceptance import Acceptance, Environment
from handoff.evidence.model import Evidence
from handoff.safe_paths import (
    list_beneath,
    read_text_or_none,
    refuse_symlinks_below,
    run_folder_names,
    task_file_name,
    write_beneath,
)

RUNS = "runs"


class AcceptedHandoff(Protocol):
    """What the report folder depends on: a catalog `Handoff` (kept apart to avoid a cycle)."""

    @property
    def contract_path(self) -> Path: ...
    @property
    def acceptance(self) -> Acceptance | None: ...
    @property
    def environment(self) -> Environment | None: ...


def report_dir_of(handoff: AcceptedHandoff) -> Path:
    """Return the handoff's report directory (sidecar override, else the environment's).

    A relative directory is resolved against the folder holding the handoffs folder
    (`include/` for `include/handoffs/`), never against the worker's working directory.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    report_dir = Path(handoff.acceptance.report_dir or handoff.environment.report_dir)
    if not report_dir.is_absolute():
        report_dir = handoff.contract_path.resolve().parent.parent / report_dir
    return report_dir


def run_parts(dag_id: str, run_id: str) -> tuple[str, str, str]:
    """Return the run folder's components under the report directory; UnsafePath if unsafe."""
    return (RUNS, *run_folder_names(dag_id, run_id))


def run_dir(report_dir: Path, dag_id: str, run_id: str) -> Path:
    """Return the folder of one run's evidence and reports (run ids hold ':' and '+').

    Raises UnsafePath for an id outside the allowed alphabet (``..`` included) and when a
    folder between the report directory and the run's folder is a symlink.
    """
    parts = run_parts(dag_id, run_id)
    refuse_symlinks_below(report_dir, parts)
    return report_dir.joinpath(*parts)


class EvidenceStore:
    """The evidence of one run, in `<run_dir>/evidence/<task_id>.json`."""

    def __init__(self, run_directory: Path) -> None:
        self.run_directory = run_directory
        self.folder = run_directory / "evidence"

    def write(self, task_id: str, records: list[Evidence]) -> Path:
        """Replace the task's records atomically (a reader never sees half a file)."""
        payload = json.dumps([r.to_json() for r in records], indent=2, sort_keys=True)
        parts = ("evidence", task_file_name(task_id))
        return write_beneath(self.run_directory, parts, payload.encode("utf-8"))

    def read_all(self) -> list[Evidence]:
        """Return every record of the run, oldest first (symlinked files are skipped)."""
        records: list[Evidence] = []
        for name in list_beneath(self.run_directory, ("evidence",), ".json"):
            text = read_text_or_none(self.run_directory, ("evidence", name))
            if text is not None:
                records.extend(Evidence.from_json(item) for item in json.loads(text))
        return sorted(records, key=lambda r: (r.at, r.task_id, r.criterion))
