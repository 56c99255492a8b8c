"""What every task needs: its handoff, the run's settings and the service's engine."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import Handoff, load_handoff
from handoff.runtime.engine_factory import engine_for
from handoff.runtime.settings import RunSettings

log = logging.getLogger(__name__)

PREFLIGHT_TASK = "preflight"


def handoff_from(contract_path: str) -> Handoff:
    """Load the handoff a task belongs to; fail the task (no retry) if it became invalid."""
    handoff = load_handoff(Path(contract_path))
    if not handoff.deployable or handoff.acceptance is None or handoff.environment is None:
        problems = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
        raise AirflowFailException(f"{contract_path} cannot be deployed:\n{problems}")
    return handoff


def engine_of(handoff: Handoff) -> BlueGreenEngine:
    """Return the blue-green engine of the handoff's service."""
    assert handoff.acceptance is not None and handoff.environment is not None
    return engine_for(handoff.acceptance, handoff.environment)


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
