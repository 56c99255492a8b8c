"""Load one DAG per accepted contract; report broken contracts without hiding the others.

Airflow records import errors per Python file, and a loader module that raises loses every
DAG it would have built. So the loader builds the DAGs of the good contracts and adds one
more object: a DAG that always fails Airflow's validation with every broken contract's
`file:line: message`. Airflow bags the good DAGs and records exactly one import error for the
loader file, naming the broken contracts; the other DAGs stay.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from airflow.sdk import DAG, get_parsing_context

from handoff import handoff_cache
from handoff.catalog import Catalog, Handoff, load_catalog
from handoff.contract_ids import ContractId
from handoff.errors import Diagnostic, HandoffError, Severity, unexpected
from handoff.plan.naming import dag_id_for
from handoff.render.dag import build_dag
from handoff.render.docs import safe_doc_md
from handoff.render.pinned import pin_in_flight
from handoff.render.shards import Shard

log = logging.getLogger(__name__)

ERRORS_DAG_ID = "handoff_contract_errors"


class HandoffImportError(HandoffError):
    """One or more contracts in the handoffs folder cannot become DAGs."""


class BrokenContracts(DAG):
    """A DAG that never loads: its validation raises the broken contracts' diagnostics."""

    def validate(self) -> None:
        """Refuse to be bagged, so Airflow records the problems as an import error."""
        raise HandoffImportError((self.doc_md or "broken contracts").rstrip("\n"))


def load_dags(
    handoffs_dir: Path,
    environments_dir: Path | None = None,
    only_dag_id: str | None = None,
    shard: Shard | None = None,
    carrier: bool = True,
    register: bool = True,
) -> dict[str, DAG]:
    """Return the DAGs of the shard's deployable handoffs, plus the error carrier when needed.

    With ``only_dag_id`` (Airflow's parsing context on a worker) only that DAG is built, and
    only its contract is loaded. Checks that span files (duplicate handoff or DAG ids) cover
    every contract of the folder whichever shard builds it. ``carrier=False`` leaves the error
    carrier out (the DAG files of `publish`); ``register=False`` builds DAGs that Airflow does
    not bag from the file being parsed (`error_carrier_of`).
    """
    shard = shard or Shard()

    def select(path: Path, found: ContractId | None) -> bool:
        if not shard.holds(path):
            return False
        return only_dag_id is None or (
            found is not None and dag_id_for(found.handoff_id) == only_dag_id
        )

    own = shard.holds if only_dag_id is None else None
    catalog = load_catalog([handoffs_dir], environments_dir, select=select, own=own)
    cross_file, owner = _index(catalog)
    dags: dict[str, DAG] = {}
    broken: list[Diagnostic] = [p for p in catalog.problems if p.path.suffix == ".yaml"]
    for handoff in catalog.handoffs:
        errors = [d for d in handoff.diagnostics if d.is_error]
        errors += cross_file.get(handoff.contract_path.resolve(), [])
        if errors:
            broken += errors
            continue
        if not handoff.deployable or handoff.contract is None:
            continue  # not accepted yet: no DAG until its sidecar exists
        built = _build(handoff, owner, register)
        if isinstance(built, Diagnostic):
            broken.append(built)
        else:
            dags[built.dag_id] = built
    # A handoff with a run in flight keeps the DAG that run started with (render.pinned).
    broken += pin_in_flight(
        handoffs_dir, dags, shard.holds, only_dag_id, partial(build_dag, register=register)
    )
    if carrier and broken and only_dag_id is None:
        dags.update(_error_carrier(broken, shard))
    return dags


def _index(catalog: Catalog) -> tuple[dict[Path, list[Diagnostic]], dict[str, Path]]:
    """Return the cross-file problems by contract, and the first contract of each DAG id."""
    cross_file: dict[Path, list[Diagnostic]] = {}
    for problem in catalog.problems:
        cross_file.setdefault(problem.path.resolve(), []).append(problem)
    owner: dict[str, Path] = {}
    for found in sorted(catalog.ids, key=lambda i: str(i.path)):
        owner.setdefault(dag_id_for(found.handoff_id), found.path)
    return cross_file, owner


def _error_carrier(broken: list[Diagnostic], shard: Shard) -> dict[str, DAG]:
    """Return the DAG that fails validation with every broken contract's diagnostics."""
    message = "\n".join(d.render() for d in broken)
    log.error("broken handoff contracts:\n%s", message)
    errors_dag_id = "_".join(filter(None, [ERRORS_DAG_ID, shard.label]))
    carrier = BrokenContracts(dag_id=errors_dag_id, schedule=None, doc_md=safe_doc_md(message))
    return {errors_dag_id: carrier}


def _build(handoff: Handoff, owner: dict[str, Path], register: bool = True) -> DAG | Diagnostic:
    """Build one DAG, or say why it cannot be: its id is taken, or building it failed."""
    assert handoff.contract is not None
    dag_id = dag_id_for(handoff.contract.handoff_id)
    first = owner.get(dag_id, handoff.contract_path)
    if first != handoff.contract_path:
        return Diagnostic(
            Severity.ERROR,
            handoff.contract_path,
            handoff.contract.source.id_line,
            f"DAG id {dag_id!r} is already taken by {first}",
            "handoff ids that differ only in case or punctuation name the same DAG",
        )
    try:
        return build_dag(handoff, register=register)
    except Exception as e:  # the last resort: this contract's import error, not the shard's
        log.debug("unexpected error while building %s", dag_id, exc_info=True)
        return unexpected(handoff.contract_path, e, "building its DAG")


def publish(namespace: dict[str, object], loader_file: str) -> None:
    """Put the DAGs of a loader file's shard into its module namespace, where Airflow looks.

    Contracts come from $HANDOFF_DIR, else `include/handoffs/` of the project the loader
    file lives in (its real path: tests link loader files into their own DAGs folder).
    """
    handoffs_dir = handoffs_dir_of(loader_file)
    shard = Shard.of_loader(loader_file)
    # Cache entries are written while the DAGs are built, not before. No error carrier here:
    # Airflow 3.3 marks every DAG of a file that has an import error stale (the scheduler
    # then starts none of their tasks, a run in flight included), so the carrier lives in a
    # file of its own (`publish_errors`).
    with collector_paused(), handoff_cache.writes_in_background():
        dags = load_dags(
            handoffs_dir, only_dag_id=get_parsing_context().dag_id, shard=shard, carrier=False
        )
    namespace.update(dags)


def publish_errors(namespace: dict[str, object], loader_file: str) -> None:
    """Put only the error carrier of every broken contract into a loader file's namespace.

    The file's one import error names every broken contract (`file:line: message`) and every
    in-flight run kept on its snapshot, while the DAG files (`publish`) stay free of import
    errors, so no good DAG is marked stale because another contract broke.
    """
    namespace.update(error_carrier_of(handoffs_dir_of(loader_file)))


def error_carrier_of(handoffs_dir: Path) -> dict[str, DAG]:
    """Return only the error carrier of a handoffs folder (empty when nothing is broken).

    Every DAG is built here too, then dropped: a contract whose DAG fails to build (the last
    resort in `_build`) is only found by building it. That doubles the DAG processor's
    building work (about 8 ms per handoff) for errors that no other file may carry.
    """
    with collector_paused():
        dags = load_dags(handoffs_dir, register=False)
    return {k: v for k, v in dags.items() if isinstance(v, BrokenContracts)}


def handoffs_dir_of(loader_file: str) -> Path:
    """Return $HANDOFF_DIR, else `include/handoffs/` of the project the loader file is in."""
    return Path(
        os.environ.get("HANDOFF_DIR")
        or Path(loader_file).resolve().parent.parent / "include" / "handoffs"
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while DAGs are built.

    Building a DAG allocates thousands of long-lived objects (operators, task groups, params),
    and every few hundred allocations the collector walks all of them again: measured, that
    was 45 % of the loader's time for 1,000 contracts. Nothing built here is garbage, so the
    collector is resumed (not run) afterwards; it collects the few cycles at its next turn.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
