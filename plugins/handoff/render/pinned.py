"""DAGs of handoffs with a run in flight: built from that run's snapshot, not the live files.

A run in flight keeps the DAG it started with. While the registry (`handoff.runtime.snapshot`)
marks a run of a handoff in flight, the loader builds that handoff's DAG from the run's
snapshot, whatever became of the live files: edited (the edit waits for the next run),
broken (the error is still shown, and the run's remaining tasks, rollback included, start),
deleted (the DAG retires only once the run is over) or renamed to another handoff id. The
loader has no database at parse time; the marker, written by preflight and removed by the
report task, is how it knows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from handoff.errors import Diagnostic, Severity
from handoff.runtime.snapshot import InFlight, Snapshot, in_flight_runs, sha256_of

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)


def in_flight_notes(handoffs_dir: Path) -> list[Diagnostic]:
    """Return one warning per in-flight run whose live files differ from its snapshot."""
    notes = []
    for run in in_flight_runs(handoffs_dir).values():
        try:
            snapshot = Snapshot.read(run.snapshot_dir)
        except (OSError, ValueError, KeyError):
            continue
        live = sha256_of(run.contract_path), sha256_of(_sidecar(run.contract_path))
        frozen = snapshot.hashes.get("contract"), snapshot.hashes.get("sidecar")
        if live == frozen:
            continue
        state = "was deleted" if not live[0] else "changed since the run started"
        notes.append(
            Diagnostic(
                Severity.WARNING,
                run.contract_path,
                None,
                f"run {run.run_id} of {run.dag_id} is in flight and {state}: its DAG stays "
                f"built from the run's snapshot ({run.snapshot_dir}) until the run ends; "
                "these files apply to the next run",
                "a new run of this handoff is refused while its files are invalid",
            )
        )
    return notes


def _sidecar(contract_path: Path) -> Path:
    from handoff.catalog import sidecar_path_for

    return sidecar_path_for(contract_path)


def pin_in_flight(
    handoffs_dir: Path,
    dags: dict[str, DAG],
    holds: Callable[[Path], bool],
    only_dag_id: str | None,
    build: Callable[..., DAG] | None,
) -> list[Diagnostic]:
    """Replace or add the DAG of every in-flight run this loader owns; return what to show.

    ``holds`` tells which contracts this loader (shard) owns; ``build`` renders a handoff
    (None: build nothing, only return the notes). The notes go to the error carrier's import
    error, so Airflow shows them.
    """
    notes = []
    for dag_id, run in in_flight_runs(handoffs_dir).items():
        if not holds(run.contract_path) or (only_dag_id is not None and dag_id != only_dag_id):
            continue
        if build is not None:
            dag = _pinned_dag(run, build)
            if dag is None:
                continue
            dags[dag_id] = dag
        if not run.contract_path.is_file():
            notes.append(
                Diagnostic(
                    Severity.WARNING,
                    run.contract_path,
                    None,
                    f"contract deleted while run {run.run_id} of {dag_id} is in flight: its DAG "
                    "stays, built from the run's snapshot, and retires once the run has ended",
                )
            )
    return notes


def _pinned_dag(run: InFlight, build: Callable[..., DAG]) -> DAG | None:
    try:
        handoff = Snapshot.read(run.snapshot_dir).handoff()
    except (OSError, ValueError, KeyError) as e:
        log.error("in-flight run %s: snapshot %s unreadable: %s", run.run_id, run.snapshot_dir, e)
        return None
    if not handoff.deployable:
        problems = "; ".join(d.render() for d in handoff.diagnostics if d.is_error)
        log.error("in-flight run %s: its snapshot no longer loads: %s", run.run_id, problems)
        return None
    dag = build(handoff)
    dag.doc_md = (
        f"**Run `{run.run_id}` is in flight: this DAG is built from the handoff as that run "
        f"started ({run.taken_at:%Y-%m-%d %H:%M:%S} UTC, snapshot `{run.snapshot_dir}`).** "
        "Edits to its files apply to the next run.\n\n" + (dag.doc_md or "")
    )
    return dag
