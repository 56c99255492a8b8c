"""Expand before the deploy: apply the release's expand steps, then prove the old colour survives.

The release's own migration command (`apply expand`) runs in a one-off container of the
release image; then the old colour's smoke journeys run again on live, against the expanded
schema, before any user sees the release. When the command fails or a journey fails, the
steps this run applied are undone, newest first, by their down steps, and the task fails
(abort: nothing was deployed); a step without a down step stops the undo there and the
failure names the schema's state, for a person to decide (escalation).

After the handover's sign-off and the old colour's retirement, `contract_schema` applies the
release's contract steps. Both record the schema each colour's release sees (the database's
version, the highest step its image ships, the steps it does not know) under the contract's
Dependencies item about the database, and return it for the report's two phases.
`rollback_schema` decides, before a rollback moves anything, whether the old colour's schema is
still served. The graph (`plan/graph.py`) has these tasks only with
`service.database.migrations`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from handoff.acceptance.sidecar import MigrationSettings
from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.checks.database import (
    Pending,
    plan,
    read_status,
    steps_reported,
    undo_of,
    version_reported,
)
from handoff.checks.dependencies import Dependency
from handoff.evidence import EvidenceStatus
from handoff.plan import CheckKind
from handoff.target import DeploymentTarget, TargetError
from handoff.tasks.check_gates import smoke_findings
from handoff.tasks.context import engine_of, handoff_from, run_settings
from handoff.tasks.dependencies import criterion_of
from handoff.tasks.evidence_records import criteria_for, record_criteria

log = logging.getLogger(__name__)

#: Where the old colour's journeys are recorded: on live, before the release is deployed.
SMOKE_TARGET = "live (old colour, expanded schema)"
CONTRACT_TARGET = "live (after the handover)"
#: The XCom key under which the rollback step pushes its schema decision (went ahead/refused).
ROLLBACK_SCHEMA_KEY = "schema"


class ExpandFailed(Exception):
    """The expand could not be kept: the message says what ran, what was undone, what is left."""


@dataclass(frozen=True)
class ExpandOutcome:
    """What the expand did: the steps applied, the schema version, the old colour's journeys."""

    applied: tuple[str, ...]
    version: int | None
    old_release: str | None
    journeys: tuple[Finding, ...] = field(default=())
    # The versions of the applied steps: a rollback onto the old colour accepts exactly these.
    versions: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": list(self.applied),
            "applied_versions": list(self.versions),
            "schema_version": self.version,
            "old_release": self.old_release,
            "journeys": [f.summary for f in self.journeys],
        }


def _run(
    target: DeploymentTarget, release: str, settings: MigrationSettings, *args: str
) -> tuple[int | None, tuple[str, ...]]:
    result = target.run_release(
        release, [*settings.command, *args], settings.timeout.total_seconds()
    )
    return result.exit_code, result.output


def _undo(
    target: DeploymentTarget,
    release: str,
    settings: MigrationSettings,
    applied: Sequence[Pending],
    version: int | None,
) -> str:
    """Undo this run's steps newest first; return the schema's state in one sentence."""
    undo = undo_of(applied)
    undone: list[str] = []
    for step in undo.versions:
        code, output = _run(target, release, settings, "down", str(step))
        version = version_reported(output)
        if code != 0:
            return (
                f"undoing {step:04d} failed (exit {code}); schema at version {version}: "
                "escalate, a person decides"
            )
        undone.append(f"{step:04d}")
    if not applied:
        return f"no step of this run was kept; schema at version {version}"
    said = f"undone: {', '.join(undone)}" if undone else "nothing undone"
    if undo.blocked_by:
        return (
            f"{said}; {undo.blocked_by} has no down step, so the schema stays at version "
            f"{version}: escalate, a person decides"
        )
    return f"{said}; schema back at version {version}"


def run_expand(
    target: DeploymentTarget,
    release: str,
    settings: MigrationSettings,
    old_colour_journeys: Callable[[], list[Finding]],
) -> ExpandOutcome:
    """Apply the release's pending expand steps; keep them only if the old colour survives."""
    code, output = _run(target, release, settings, "status")
    planned = plan(read_status(output))
    if code != 0 or not planned.ok:
        raise ExpandFailed(f"migration status refused: {'; '.join(planned.problems) or code}")
    if not planned.expand:
        log.info("expand: nothing to expand (%d contract steps wait for the handover)",
                 len(planned.contract))  # fmt: skip
        return ExpandOutcome((), version_reported(output), None)
    state = target.status()
    old = state.live.release if state.live else None
    log.info("expand: %s before deploying %s; live: %s",
             ", ".join(p.file for p in planned.expand), release, old or "none")  # fmt: skip
    code, output = _run(target, release, settings, "apply", "expand")
    applied = steps_reported(output, "applied")
    version = version_reported(output)
    if code != 0:
        state_now = _undo(target, release, settings, applied, version)
        raise ExpandFailed(f"apply expand exited {code}: {state_now}")
    files, versions = tuple(p.file for p in applied), tuple(p.version for p in applied)
    if old is None:  # a first deployment: no old colour to break
        return ExpandOutcome(files, version, None, versions=versions)
    journeys = tuple(old_colour_journeys())
    for finding in journeys:
        log.info("old colour %s on the expanded schema: %s", old, finding.summary)
    broken = [f for f in journeys if f.failed]
    if broken:
        state_now = _undo(target, release, settings, applied, version)
        raise ExpandFailed(
            f"the expand broke the old colour ({old}): {broken[0].summary}; {state_now}"
        )
    return ExpandOutcome(files, version, old, journeys, versions)


@dataclass(frozen=True)
class SchemaView:
    """What one release's migration command sees of the database (its `status`)."""

    release: str
    version: int | None  # the database's; None when the command did not say
    ships: int  # the highest step the release's image ships
    unknown: tuple[int, ...]  # steps the database ran that the release does not ship
    exit_code: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "schema_version": self.version,
            "ships_up_to": self.ships,
            "unknown_steps": list(self.unknown),
        }


def schema_of(target: DeploymentTarget, release: str, settings: MigrationSettings) -> SchemaView:
    """Ask a release's own command what it sees of the database (changes nothing)."""
    code, output = _run(target, release, settings, "status")
    status = read_status(output)
    version = status.version if status.reachable else None
    return SchemaView(release, version, status.release_version, status.unknown_applied, code)


def colour_schemas(target: DeploymentTarget, settings: MigrationSettings) -> dict[str, Any]:
    """Return, per running colour, its release and the schema it sees (for the evidence)."""
    found: dict[str, Any] = {}
    for colour in target.status().colours:
        if colour.running:
            found[colour.colour.value] = schema_of(target, colour.release, settings).to_json()
    return found


def _schema_finding(phase: str, applied: Sequence[str], version: int | None,
                    colours: dict[str, Any]) -> Finding:  # fmt: skip
    seen = ", ".join(
        f"{colour} {view['release']} (ships up to {view['ships_up_to']})"
        for colour, view in colours.items()
    )
    return Finding(
        EvidenceStatus.PASSED,
        f"{phase}: {', '.join(applied) or 'nothing to apply'}; schema at version {version}; "
        f"colours: {seen or 'none running'}",
        {"phase": phase, "applied": list(applied), "schema_version": version, "colours": colours},
        {},
    )


class ContractFailed(Exception):
    """The contract could not run, or stopped: the message names the schema's state."""


@dataclass(frozen=True)
class ContractOutcome:
    """What the contract did: the steps applied and the schema's version afterwards."""

    applied: tuple[str, ...]
    version: int | None

    def to_json(self) -> dict[str, Any]:
        return {"applied": list(self.applied), "schema_version": self.version}


def run_contract(
    target: DeploymentTarget, release: str, settings: MigrationSettings
) -> ContractOutcome:
    """Apply the release's pending contract steps; only the live colour may still run.

    The graph runs this after the sign-off and the retirement of the old colour; it checks
    again that no other colour runs, because a contract step removes what that colour needs.
    """
    state = target.status()
    live = state.live.colour if state.live else None
    others = [c for c in state.colours if c.running and c.colour != live]
    if others:
        raise ContractFailed(
            f"{others[0].colour.value} ({others[0].release}) still runs beside live: a contract "
            "step would remove the schema it needs; nothing applied"
        )
    code, output = _run(target, release, settings, "status")
    planned = plan(read_status(output))
    if code != 0 or not planned.ok:
        raise ContractFailed(f"migration status refused: {'; '.join(planned.problems) or code}")
    if not planned.contract:
        return ContractOutcome((), version_reported(output))
    log.info("contract: %s after the handover of %s",
             ", ".join(p.file for p in planned.contract), release)  # fmt: skip
    code, output = _run(target, release, settings, "apply", "contract")
    applied = tuple(p.file for p in steps_reported(output, "applied"))
    version = version_reported(output)
    if code != 0:
        raise ContractFailed(
            f"apply contract exited {code} after applying {', '.join(applied) or 'nothing'}; "
            f"schema at version {version}: escalate, a person decides"
        )
    return ContractOutcome(applied, version)


@dataclass(frozen=True)
class RollbackSchema:
    """Whether a rollback onto the old colour keeps a schema that colour can serve."""

    allowed: bool
    reason: str
    old_release: str
    view: SchemaView | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "decision": "went ahead" if self.allowed else "refused",
            "reason": self.reason,
            "old_release": self.old_release,
            "old_colour_schema": self.view.to_json() if self.view else None,
        }


def rollback_schema(
    target: DeploymentTarget,
    old_release: str,
    settings: MigrationSettings,
    expanded: Sequence[int],
) -> RollbackSchema:
    """Decide, before anything moves, whether the old colour's schema is still served.

    The old release's own command lists the steps the database ran that its image does not
    ship. Only the steps this run's expand proved against the old colour (its journeys passed
    on live on that schema, `prove_old_colour`) may be among them. Anything else (a
    contract step, or a change nothing proved against the old release) refuses the rollback.
    A database the command cannot read refuses it too: the old colour could not serve either.
    """
    try:
        view = schema_of(target, old_release, settings)
    except TargetError as e:
        return RollbackSchema(False, f"the old release's migration status could not run: {e}",
                              old_release)  # fmt: skip
    if view.exit_code != 0 or view.version is None:
        return RollbackSchema(
            False,
            f"the old release's migration status failed (exit {view.exit_code}); the schema "
            "it would serve is unknown",
            old_release,
            view,
        )
    foreign = [v for v in view.unknown if v not in set(expanded)]
    if foreign:
        steps = ", ".join(f"{v:04d}" for v in foreign)
        return RollbackSchema(
            False,
            f"the database ran {steps}, which {old_release} does not ship and this run's expand "
            f"did not prove against it (a contract step removes what it needs); schema at "
            f"version {view.version}",
            old_release,
            view,
        )
    kept = ", ".join(f"{v:04d}" for v in view.unknown)
    return RollbackSchema(
        True,
        f"{old_release} serves schema version {view.version}"
        + (f" (this run's expand {kept}, proven against it)" if kept else "")
        + ": no contract step ran",
        old_release,
        view,
    )


def _record(handoff: Handoff, target: str, journeys: Sequence[Finding],
            schema: Finding | None) -> None:  # fmt: skip
    """Record the old colour's journeys and the schema finding in one go (one file per task)."""
    items: list[tuple[Any, CheckKind, Sequence[Finding]]] = [
        (c, CheckKind.SMOKE, journeys) for c in criteria_for(handoff, CheckKind.SMOKE) if journeys
    ]
    if schema is not None:
        items.append((criterion_of(handoff, Dependency.DATABASE), CheckKind.DATABASE, [schema]))
    if items:
        record_criteria(handoff, items, target=target)


#: What the migration tasks return without a migration command (the graph adds none then).
NO_MIGRATIONS: dict[str, Any] = {
    "applied": [],
    "reason": "no database migrations (service.database.migrations)",
}


def _settings_of(contract_path: str) -> tuple[Handoff, MigrationSettings | None]:
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None
    database = handoff.acceptance.service.database
    return handoff, (database.migrations if database else None)


def expand_schema(contract_path: str) -> dict[str, Any]:
    """Task callable: expand before the deploy, the old colour's journeys rerun on live."""
    handoff, settings = _settings_of(contract_path)
    if settings is None:
        return dict(NO_MIGRATIONS)
    release = run_settings().release
    journeys: list[Finding] = []
    schema: Finding | None = None

    def rerun() -> list[Finding]:
        journeys.extend(smoke_findings(handoff, "live"))
        return journeys

    target = engine_of(handoff)
    try:
        outcome = run_expand(target, release, settings, rerun)
        proven = prove_old_colour(target, settings, outcome, rerun)
        colours = colour_schemas(target, settings)
        colours["release"] = schema_of(target, release, settings).to_json()
        schema = _schema_finding("expand", outcome.applied, outcome.version, colours)
    except (ExpandFailed, TargetError) as e:
        schema = Finding(
            EvidenceStatus.FAILED, f"expand before deploy: {e}", {"phase": "expand"}, {}
        )
        raise AirflowFailException(f"expand before deploy: {e} (nothing was deployed)") from e
    finally:
        _record(handoff, SMOKE_TARGET, journeys, schema)
    return {**outcome.to_json(), "proven_versions": list(proven), "colours": colours}


def prove_old_colour(
    target: DeploymentTarget,
    settings: MigrationSettings,
    outcome: ExpandOutcome,
    old_colour_journeys: Callable[[], list[Finding]],
) -> tuple[int, ...]:
    """Return the steps the old release does not ship that its journeys passed on, this run.

    A rollback onto the old colour accepts exactly these. When this run applied nothing (an
    earlier run's expand, kept after an abort, say) the old colour's journeys run here, so
    what the database holds is proven against the colour a rollback would restore.
    """
    live = target.status().live
    if live is None:
        return ()
    view = schema_of(target, live.release, settings)
    if not view.unknown:
        return ()
    if not outcome.journeys:
        broken = [f for f in old_colour_journeys() if f.failed]
        if broken:
            raise ExpandFailed(
                f"the old colour ({live.release}) fails on schema version {view.version}, "
                f"which it does not ship all of: {broken[0].summary}; nothing applied, "
                "escalate, a person decides"
            )
    return view.unknown


def contract_schema(contract_path: str) -> dict[str, Any]:
    """Task callable: the contract steps, after the sign-off and the old colour's retirement."""
    handoff, settings = _settings_of(contract_path)
    if settings is None:
        return dict(NO_MIGRATIONS)
    release = run_settings().release
    target = engine_of(handoff)
    schema: Finding | None = None
    try:
        outcome = run_contract(target, release, settings)
        colours = colour_schemas(target, settings)
        schema = _schema_finding("contract", outcome.applied, outcome.version, colours)
    except (ContractFailed, TargetError) as e:
        schema = Finding(
            EvidenceStatus.FAILED, f"contract after handover: {e}", {"phase": "contract"}, {}
        )
        raise AirflowFailException(f"contract after handover: {e}") from e
    finally:
        _record(handoff, CONTRACT_TARGET, (), schema)
    return {**outcome.to_json(), "colours": colours}
