"""Load one DAG per accepted contract; report broken contracts without hiding the others.

Airflow records import errors per Python file, and a loader module that raises loses every
DAG it would have built. So the loader builds the DAGs of the good contracts and adds one
more object: a DAG that always fails Airflow's validation with every broken contract's
`file:line: message`. Airflow bags the good DAGs and records exactly one import error for the
loader file, naming the broken contracts; the other DAGs stay.
"""

from __future__ import annotations

import logging
from pathlib import Path

from airflow.sdk import DAG

from handoff.catalog import load_catalog
from handoff.errors import Diagnostic, HandoffError, Severity
from handoff.render.dag import build_dag
from handoff.render.naming import dag_id_for

log = logging.getLogger(__name__)

ERRORS_DAG_ID = "handoff_contract_errors"


class HandoffImportError(HandoffError):
    """One or more contracts in the handoffs folder cannot become DAGs."""


class BrokenContracts(DAG):
    """A DAG that never loads: its validation raises the broken contracts' diagnostics."""

    def validate(self) -> None:
        """Refuse to be bagged, so Airflow records the problems as an import error."""
        raise HandoffImportError(self.doc_md or "broken contracts")


def load_dags(
    handoffs_dir: Path, environments_dir: Path | None = None, only_dag_id: str | None = None
) -> dict[str, DAG]:
    """Return the DAGs of every deployable handoff, plus the error carrier when needed.

    With ``only_dag_id`` (Airflow's parsing context on a worker) only that DAG is built.
    """
    catalog = load_catalog([handoffs_dir], environments_dir)
    cross_file: dict[Path, list[Diagnostic]] = {}
    for problem in catalog.problems:
        cross_file.setdefault(problem.path.resolve(), []).append(problem)
    dags: dict[str, DAG] = {}
    origin: dict[str, Path] = {}
    broken: list[Diagnostic] = [p for p in catalog.problems if p.path.suffix == ".yaml"]
    for handoff in catalog.handoffs:
        errors = [d for d in handoff.diagnostics if d.is_error]
        errors += cross_file.get(handoff.contract_path.resolve(), [])
        if errors:
            broken += errors
            continue
        if not handoff.deployable or handoff.contract is None:
            continue  # not accepted yet: no DAG until its sidecar exists
        dag_id = dag_id_for(handoff.contract.handoff_id)
        if dag_id in origin:
            broken.append(
                Diagnostic(
                    Severity.ERROR,
                    handoff.contract_path,
                    handoff.contract.source.id_line,
                    f"DAG id {dag_id!r} is already taken by {origin[dag_id]}",
                    "handoff ids that differ only in case or punctuation name the same DAG",
                )
            )
            continue
        origin[dag_id] = handoff.contract_path
        if only_dag_id is not None and dag_id != only_dag_id:
            continue
        dags[dag_id] = build_dag(handoff)
    if broken and only_dag_id is None:
        message = "\n".join(d.render() for d in broken)
        log.error("broken handoff contracts:\n%s", message)
        dags[ERRORS_DAG_ID] = BrokenContracts(dag_id=ERRORS_DAG_ID, schedule=None, doc_md=message)
    return dags
