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
import time
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
from handoff.render.outcomes import OutcomeLog, recorded
from handoff.render.pinned import pin_in_flight
from handoff.render.shards import Shard

log = logging.getLogger(__name__)

ERRORS_DAG_ID = "handoff_contract_errors"
# While building the DAGs no shard has recorded, read the shards' records again this often.
REREAD_EVERY = 20
# How long the errors file waits, at most, for shards that are building right now (well under
# Airflow's 30 s `dagbag_import_timeout`, which also counts the builds left after it), and how
# often it looks at their records meanwhile.
WAIT_AT_MOST = 8.0
WAIT_STEP = 0.1


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
    outcomes: OutcomeLog | None = None,
) -> dict[str, DAG]:
    """Return the DAGs of the shard's deployable handoffs, plus the error carrier when needed.

    With ``only_dag_id`` (Airflow's parsing context on a worker) only that DAG is built, and
    only its contract is loaded. Checks that span files (duplicate handoff or DAG ids) cover
    every contract of the folder whichever shard builds it. ``carrier=False`` leaves the error
    carrier out (the DAG files of `publish`); ``register=False`` builds DAGs that Airflow does
    not bag from the file being parsed. ``outcomes`` records each build's outcome for the
    errors file (`error_carrier_of`).
    """
    shard = shard or Shard()
    dags: dict[str, DAG] = {}
    broken: list[Diagnostic] = []
    for found in _triage(_catalog(handoffs_dir, environments_dir, only_dag_id, shard)):
        if isinstance(found, Diagnostic):
            broken.append(found)
            continue
        built = _build(found, register)
        if outcomes is not None:
            outcomes.record(found.contract_path, built if isinstance(built, Diagnostic) else None)
        if isinstance(built, Diagnostic):
            broken.append(built)
        else:
            dags[built.dag_id] = built
    if outcomes is not None:
        outcomes.finish()
    # A handoff with a run in flight keeps the DAG that run started with (render.pinned).
    broken += pin_in_flight(
        handoffs_dir, dags, shard.holds, only_dag_id, partial(build_dag, register=register)
    )
    if carrier and broken and only_dag_id is None:
        dags.update(_error_carrier(broken, shard))
    return dags


def _catalog(
    handoffs_dir: Path,
    environments_dir: Path | None,
    only_dag_id: str | None,
    shard: Shard,
    builds: bool = True,
) -> Catalog:
    """Load the shard's handoffs (only the one of `only_dag_id` when given).

    ``builds=False`` (the errors file) indexes no contract ahead of the others: it takes the
    ids the shards index as they write them, and parses only the contracts they have not.
    """

    def select(path: Path, found: ContractId | None) -> bool:
        if not shard.holds(path):
            return False
        return only_dag_id is None or (
            found is not None and dag_id_for(found.handoff_id) == only_dag_id
        )

    own = shard.holds if only_dag_id is None else None
    if not builds:
        own = _nobody
    return load_catalog([handoffs_dir], environments_dir, select=select, own=own)


def _nobody(path: Path) -> bool:
    """Own no contract (see `_catalog`)."""
    return False


def _triage(catalog: Catalog) -> list[Diagnostic | Handoff]:
    """Return the catalog's errors in the order they are reported, each handoff to build in
    its place (its build's failure, if any, is reported there)."""
    cross_file, owner = _index(catalog)
    found: list[Diagnostic | Handoff] = [p for p in catalog.problems if p.path.suffix == ".yaml"]
    for handoff in catalog.handoffs:
        errors = [d for d in handoff.diagnostics if d.is_error]
        if cross_file:  # resolving a path costs ~50 µs; most folders have no such problem
            errors += cross_file.get(handoff.contract_path.resolve(), [])
        if errors:
            found += errors
            continue
        if not handoff.deployable or handoff.contract is None:
            continue  # not accepted yet: no DAG until its sidecar exists
        found.append(_id_taken(handoff, owner) or handoff)
    return found


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


def _id_taken(handoff: Handoff, owner: dict[str, Path]) -> Diagnostic | None:
    """Say why a handoff gets no DAG when an earlier contract's DAG has its id."""
    assert handoff.contract is not None
    dag_id = dag_id_for(handoff.contract.handoff_id)
    first = owner.get(dag_id, handoff.contract_path)
    if first == handoff.contract_path:
        return None
    return Diagnostic(
        Severity.ERROR,
        handoff.contract_path,
        handoff.contract.source.id_line,
        f"DAG id {dag_id!r} is already taken by {first}",
        "handoff ids that differ only in case or punctuation name the same DAG",
    )


def _build(handoff: Handoff, register: bool = True) -> DAG | Diagnostic:
    """Build one DAG, or say why it cannot be: building it failed."""
    try:
        return build_dag(handoff, register=register)
    except Exception as e:  # the last resort: this contract's import error, not the shard's
        log.debug("unexpected error while building %s", handoff.contract_path, exc_info=True)
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
    # The DAG processor's parse (no parsing context) records every build's outcome for the
    # errors file; a worker's, building one DAG, records nothing.
    only_dag_id = get_parsing_context().dag_id
    with collector_paused(), handoff_cache.writes_in_background():
        outcomes = OutcomeLog.for_shard(handoffs_dir, shard) if only_dag_id is None else None
        dags = load_dags(
            handoffs_dir, only_dag_id=only_dag_id, shard=shard, carrier=False, outcomes=outcomes
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

    A contract whose DAG fails to build (the last resort in `_build`) is only found by
    building it. The shards record each build's outcome (render.outcomes); only the DAGs no
    shard has recorded yet are built here, then dropped.
    """
    shard = Shard()
    with collector_paused():
        found = _triage(_catalog(handoffs_dir, None, None, shard, builds=False))
        failures = _build_failures([f for f in found if isinstance(f, Handoff)], handoffs_dir)
        broken = [
            problem
            for f in found
            if (problem := f if isinstance(f, Diagnostic) else failures.get(f.contract_path))
        ]
        # The notes of in-flight runs; their pinned DAGs are built as the shards build them.
        broken += pin_in_flight(
            handoffs_dir, {}, shard.holds, None, partial(build_dag, register=False)
        )
    return _error_carrier(broken, shard) if broken else {}


def _build_failures(handoffs: list[Handoff], handoffs_dir: Path) -> dict[Path, Diagnostic]:
    """Return why the DAGs that fail to build fail, from the shards' records where they have one.

    A DAG no shard has recorded is built here, unless the shard that owns it is building right
    now (a fresh start: the three files parse at once): then its record is awaited, up to
    `WAIT_AT_MOST` seconds, instead of building the same DAGs beside it on the same cores.
    Those built here go from the last backwards, the shards' records read again between.
    """
    failures: dict[Path, Diagnostic] = {}
    pending = list(reversed(handoffs))
    deadline = time.monotonic() + WAIT_AT_MOST
    while pending:
        shards = recorded(handoffs_dir)
        still: list[Handoff] = []
        for handoff in pending:
            key = handoff_cache.key_loaded_under(handoff.contract_path)
            if key is None or key not in shards.outcomes:
                still.append(handoff)
            elif (outcome := shards.outcomes[key]) is not None:
                failures[handoff.contract_path] = outcome
        pending = still
        waiting = time.monotonic() < deadline
        to_build = [h for h in pending if not (waiting and shards.awaited(h.contract_path))]
        if pending and not to_build:
            time.sleep(WAIT_STEP)
            continue
        for handoff in to_build[:REREAD_EVERY]:
            built = _build(handoff, register=False)
            if isinstance(built, Diagnostic):
                failures[handoff.contract_path] = built
            pending.remove(handoff)
    return failures


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
