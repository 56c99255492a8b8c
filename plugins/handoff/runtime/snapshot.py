"""A run's snapshot: the handoff as it was when the run's preflight started.

Preflight copies the contract's bytes, the sidecar and the environment into
``<run folder>/snapshot/`` (the same layout as a project: ``handoffs/`` and
``environments/``), with the resolved plan and the run's settings beside them in
``snapshot.json``. Every later task of the run loads its handoff from there, never from the
live files, so an edit, a typo or a deletion mid-run changes nothing of a run already live.
The run folder is on disk where every worker and the DAG processor read it (the report
directory), so the snapshot survives a restart of any component.

Preflight also writes an in-flight marker into the project's registry (``.handoff-runs/``
beside the handoffs folder, or ``$HANDOFF_RUNS_DIR``): the loader has no database at parse
time, and the marker is how it knows a run of a handoff is in flight, and where that run's
snapshot lives. The report task (the run's last, a teardown) removes it. See
docs/decisions/run-snapshot.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handoff.catalog import Handoff, load_handoff, sidecar_path_for
from handoff.jsonable import to_jsonable

log = logging.getLogger(__name__)

SNAPSHOT_FOLDER = "snapshot"
MANIFEST = "snapshot.json"
RUNS_DIR_ENV = "HANDOFF_RUNS_DIR"
REGISTRY_FOLDER = ".handoff-runs"
# A marker whose run never reached its report (marked failed by hand, database reset) stops
# pinning its DAG this long after the run's planned end.
STALE_AFTER = timedelta(days=1)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sha256_of(path: Path) -> str:
    """Return a file's sha256, or "" when it does not exist (deleted) or cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def environment_file_of(handoff: Handoff) -> Path:
    """Return the environment file a handoff uses (the catalog's default location)."""
    assert handoff.acceptance is not None
    folder = handoff.contract_path.parent.parent / "environments"
    return folder / f"{handoff.acceptance.environment}.yaml"


def live_files(handoff: Handoff) -> dict[str, Path]:
    """Return the live files a run depends on, by role."""
    return {
        "contract": handoff.contract_path,
        "sidecar": handoff.sidecar_path,
        "environment": environment_file_of(handoff),
    }


def registry_dir(handoffs_dir: Path) -> Path:
    """Return where in-flight markers of a handoffs folder live."""
    explicit = os.environ.get(RUNS_DIR_ENV)
    return Path(explicit) if explicit else handoffs_dir.resolve().parent / REGISTRY_FOLDER


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    Path(tmp).replace(path)


@dataclass(frozen=True)
class Snapshot:
    """What one run works on, as preflight froze it."""

    folder: Path
    dag_id: str
    run_id: str
    contract_path: Path  # the live contract's path (where the run's files came from)
    hashes: Mapping[str, str]
    settings: Mapping[str, Any]
    taken_at: datetime
    expires_at: datetime

    @property
    def frozen_contract(self) -> Path:
        """Return the snapshot's copy of the contract."""
        return self.folder / "handoffs" / self.contract_path.name

    def handoff(self) -> Handoff:
        """Load the handoff from the snapshot's copies; paths point at the live locations.

        The contract path stays the live one, so report folders, lease owners and messages
        are those of the handoff, not of the snapshot folder.
        """
        frozen = load_handoff(self.frozen_contract, self.folder / "environments")
        return dataclasses.replace(frozen, contract_path=self.contract_path)

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "contract_path": str(self.contract_path),
            "hashes": dict(self.hashes),
            "settings": dict(self.settings),
            "taken_at": self.taken_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def read(cls, folder: Path) -> Snapshot:
        """Read a snapshot folder written by `take`."""
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return cls(
            folder=folder,
            dag_id=data["dag_id"],
            run_id=data["run_id"],
            contract_path=Path(data["contract_path"]),
            hashes=data["hashes"],
            settings=data["settings"],
            taken_at=datetime.fromisoformat(data["taken_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )


def take(
    handoff: Handoff,
    run_folder: Path,
    dag_id: str,
    run_id: str,
    settings: Mapping[str, Any],
    planned_end: datetime,
) -> Snapshot:
    """Freeze the handoff's files, plan and settings into the run folder; mark the run in flight.

    A retried preflight replaces the snapshot of its earlier try (the run has not deployed
    anything before preflight passes).
    """
    assert handoff.plan is not None and handoff.acceptance is not None
    folder = run_folder / SNAPSHOT_FOLDER
    staging = run_folder / f".{SNAPSHOT_FOLDER}.new"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "handoffs").mkdir(parents=True)
    (staging / "environments").mkdir()
    files = live_files(handoff)
    hashes: dict[str, str] = {}
    targets = {
        "contract": staging / "handoffs" / handoff.contract_path.name,
        "sidecar": sidecar_path_for(staging / "handoffs" / handoff.contract_path.name),
        "environment": staging / "environments" / files["environment"].name,
    }
    for role, source in files.items():
        data = source.read_bytes()
        targets[role].write_bytes(data)
        hashes[role] = hashlib.sha256(data).hexdigest()
    now = datetime.now(UTC)
    snapshot = Snapshot(
        folder=folder,
        dag_id=dag_id,
        run_id=run_id,
        contract_path=handoff.contract_path,
        hashes=hashes,
        settings=dict(settings),
        taken_at=now,
        expires_at=max(planned_end, now) + STALE_AFTER,
    )
    _write_atomic(staging / MANIFEST, json.dumps(snapshot.to_json(), indent=2, sort_keys=True))
    plan = json.dumps(to_jsonable(handoff.plan), indent=2, sort_keys=True, default=str)
    _write_atomic(staging / "plan.json", plan)
    shutil.rmtree(folder, ignore_errors=True)
    staging.replace(folder)
    mark_in_flight(snapshot)
    log.info(
        "snapshot of this run: contract sha256 %s, sidecar %s, environment %s in %s; every "
        "later task reads it, never the live files",
        hashes["contract"][:12],
        hashes["sidecar"][:12],
        hashes["environment"][:12],
        folder,
    )
    return snapshot


def _marker_path(snapshot: Snapshot) -> Path:
    registry = registry_dir(snapshot.contract_path.parent)
    run = _UNSAFE.sub("_", snapshot.run_id)
    return registry / _UNSAFE.sub("_", snapshot.dag_id) / f"{run}.json"


def mark_in_flight(snapshot: Snapshot) -> Path:
    """Record that a run of the handoff is in flight, and where its snapshot is."""
    path = _marker_path(snapshot)
    marker = {**snapshot.to_json(), "snapshot": str(snapshot.folder)}
    _write_atomic(path, json.dumps(marker, indent=2, sort_keys=True))
    return path


def mark_done(snapshot: Snapshot) -> None:
    """Remove the run's in-flight marker: the loader may retire or rebuild its DAG now."""
    path = _marker_path(snapshot)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        log.info("run no longer in flight: removed %s", path)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # the last run of the DAG: keep the registry tidy


@dataclass(frozen=True)
class InFlight:
    """A run the registry says is in flight: its DAG and where its snapshot lives."""

    dag_id: str
    run_id: str
    contract_path: Path
    snapshot_dir: Path
    taken_at: datetime
    expires_at: datetime


def in_flight_runs(handoffs_dir: Path, now: datetime | None = None) -> dict[str, InFlight]:
    """Return the newest in-flight run of every DAG of a handoffs folder, by DAG id.

    Markers past their expiry, or whose snapshot is gone, are ignored (and named in the log):
    a run that never reached its report must not pin its DAG for ever.
    """
    registry = registry_dir(handoffs_dir)
    if not registry.is_dir():
        return {}
    now = now or datetime.now(UTC)
    found: dict[str, InFlight] = {}
    for path in sorted(registry.glob("*/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            run = InFlight(
                dag_id=data["dag_id"],
                run_id=data["run_id"],
                contract_path=Path(data["contract_path"]),
                snapshot_dir=Path(data["snapshot"]),
                taken_at=datetime.fromisoformat(data["taken_at"]),
                expires_at=datetime.fromisoformat(data["expires_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("in-flight marker %s unreadable (%s); ignored", path, e)
            continue
        if run.expires_at < now or not (run.snapshot_dir / MANIFEST).is_file():
            log.warning(
                "in-flight marker %s: run %s expired at %s or lost its snapshot; ignored "
                "(delete the file)",
                path,
                run.run_id,
                run.expires_at.isoformat(),
            )
            continue
        newest = found.get(run.dag_id)
        if newest is None or run.taken_at > newest.taken_at:
            found[run.dag_id] = run
    return found
