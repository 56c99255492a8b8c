"""What every task needs: its handoff, the run's settings and the service's engine.

Preflight loads the handoff from the live files and freezes it into the run's snapshot
(`handoff.runtime.snapshot`); every later task loads it from that snapshot, so an edit, a
typo or a deletion of a file mid-run never reaches a run already live. A task that finds a
live file changed reports the drift once per run (log, Slack, evidence) and goes on with the
snapshot.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException

from handoff.acceptance.paths import project_root_of
from handoff.bluegreen import tls
from handoff.catalog import Handoff, load_handoff
from handoff.evidence import Evidence, EvidenceStatus, EvidenceStore
from handoff.plan import CheckKind
from handoff.plan.graph import PREFLIGHT_TASK
from handoff.runtime import drift as drifts
from handoff.runtime.engine_factory import engine_for, live_tls
from handoff.runtime.settings import RunSettings
from handoff.runtime.snapshot import Snapshot, live_files
from handoff.target import DeploymentTarget
from handoff.tasks.database import database_secrets
from handoff.tasks.evidence_records import criteria_for, marker

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "snapshot"


def live_handoff(contract_path: str) -> Handoff:
    """Load a handoff from its live files; fail the task (no retry) if it is invalid."""
    handoff = load_handoff(Path(contract_path))
    if not handoff.deployable or handoff.acceptance is None or handoff.environment is None:
        problems = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
        raise AirflowFailException(f"{contract_path} cannot be deployed:\n{problems}")
    return handoff


def _context(context: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if context is not None:
        return context
    try:
        return get_current_context()
    except Exception:  # outside a task (a unit test, the CLI): there is no run to pin
        return None


def snapshot_of_run(context: Mapping[str, Any] | None = None) -> Snapshot | None:
    """Return this run's snapshot, or None before preflight took one."""
    context = _context(context)
    if context is None:
        return None
    data = context["ti"].xcom_pull(task_ids=PREFLIGHT_TASK)
    folder = data.get(SNAPSHOT_KEY) if isinstance(data, Mapping) else None
    if not folder:
        return None
    try:
        return Snapshot.read(Path(folder))
    except (OSError, ValueError, KeyError) as e:
        raise AirflowFailException(
            f"this run's snapshot {folder} is unreadable ({e}); the run cannot go on without "
            "the version it started with"
        ) from e


def handoff_from(contract_path: str, context: Mapping[str, Any] | None = None) -> Handoff:
    """Return the handoff a task works on: its run's snapshot once preflight took one.

    Before that (preflight itself, or an abort after preflight failed) the live files are all
    there is. A snapshot that no longer loads (say, a new version of this package refuses
    it) fails the task: guessing from the live files could act on another service.
    """
    context = _context(context)
    snapshot = snapshot_of_run(context) if context is not None else None
    if snapshot is None:
        return live_handoff(contract_path)
    handoff = snapshot.handoff()
    if not handoff.deployable or handoff.acceptance is None or handoff.environment is None:
        problems = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
        raise AirflowFailException(f"the snapshot {snapshot.folder} no longer loads:\n{problems}")
    assert context is not None
    report_drift(handoff, snapshot, context)
    return handoff


def report_drift(handoff: Handoff, snapshot: Snapshot, context: Mapping[str, Any]) -> None:
    """Log, announce and record each live file that changed since the snapshot, once per run."""
    try:
        found = drifts.compare(snapshot, live_files(handoff))
        if not found:
            return
        run_folder = snapshot.folder.parent
        task_id = str(context["ti"].task_id)
        for change in found:
            claimed = drifts.claim(run_folder, change, task_id)
            if claimed is None:
                continue  # another task of this run reported this version already
            log.warning("DRIFT: %s", claimed.describe())
            _announce_drift(handoff, claimed, context)
            _record_drift(handoff, run_folder, claimed, context)
    except Exception:  # drift is a report; it never stops the run working on its snapshot
        log.exception("could not compare the live files with this run's snapshot")


def _announce_drift(handoff: Handoff, change: drifts.Drift, context: Mapping[str, Any]) -> None:
    # Imported here: handoff.tasks.notify imports this module.
    from handoff.notify import messages
    from handoff.tasks.notify import announce

    announce(
        handoff,
        lambda ref: messages.phase(
            ref,
            step=f"drift:{change.role}:{change.live_sha256[:12] or 'deleted'}",
            title=f"the {change.role} {'was deleted' if change.deleted else 'changed'} during "
            "the run; this run keeps the version it started with",
            detail=change.describe() + ". Nothing of the edit applies to this run; the next "
            "run starts from the files as they are then.",
        ),
        context,
    )


def _record_drift(
    handoff: Handoff, run_folder: Path, change: drifts.Drift, context: Mapping[str, Any]
) -> None:
    """Add the drift to the run's evidence under the configuration-management criteria."""
    criteria = criteria_for(handoff, CheckKind.CONFIGURATION)
    names = [(c.name, c.group) for c in criteria] or [("Configuration Management", "")]
    ti = context["ti"]
    records = []
    for name, group in names:
        summary = change.describe()
        records.append(
            Evidence(
                criterion=name,
                group=group,
                check=CheckKind.CONFIGURATION.value,
                # The run kept the configuration it started with: that is what the criterion
                # asks for; the drift itself is listed, with both hashes.
                status=EvidenceStatus.PASSED,
                summary=summary,
                measured={
                    "drift": change.role,
                    "path": change.path,
                    "snapshot_sha256": change.snapshot_sha256,
                    "live_sha256": change.live_sha256,
                },
                thresholds={"applied_to_this_run": False},
                at=datetime.now(UTC).isoformat(),
                task_id=str(ti.task_id),
                try_number=int(ti.try_number or 0),
                log_marker=marker(name, EvidenceStatus.PASSED, summary),
            )
        )
    key = f"drift_{change.role}_{change.live_sha256[:12] or 'deleted'}"
    EvidenceStore(run_folder).write(key, records)


def include_dir(handoff: Handoff) -> Path:
    """Return the folder holding `handoffs/` and `environments/` (TLS paths start there)."""
    return project_root_of(handoff.contract_path)


def engine_of(handoff: Handoff) -> DeploymentTarget:
    """Return the deployment target of the handoff's service (the environment's kind).

    With a database in the sidecar, the colours get its URL from the Airflow connection.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    secrets = database_secrets(handoff.acceptance)
    return engine_for(
        handoff.acceptance, handoff.environment, secrets=secrets, base=include_dir(handoff)
    )


def live_client(handoff: Handoff) -> tuple[str, ssl.SSLContext] | None:
    """Return what probes of the live listener verify: (domain, context trusting the CA).

    None while live serves plain HTTP. The context trusts the environment's CA alone.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    return tls.client_of(live_tls(handoff.acceptance, handoff.environment, include_dir(handoff)))


def run_settings() -> RunSettings:
    """Return the settings preflight resolved for this run."""
    ti = get_current_context()["ti"]
    data: dict[str, Any] | None = ti.xcom_pull(task_ids=PREFLIGHT_TASK)
    if not data:
        raise AirflowFailException("no run settings from preflight; it did not complete")
    return RunSettings.from_xcom(data["settings"])


def pulled(task_id: str) -> Any:
    """Return what another task of this run returned (None when it did not run)."""
    return get_current_context()["ti"].xcom_pull(task_ids=task_id)
