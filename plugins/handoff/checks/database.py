"""The database at preflight: reachable, schema version, pending migrations and their phases.

The release's own migration command reports (`status`, lines of `<kind> <json>`, run in a
one-off container of the release image on the service network); this module reads that
report and applies the blue-green rules, pure. Each migration declares its phase: `expand`
(before the deploy; the old colour must keep working on the new schema) or `contract` (after
the handover only), and a contract step names the expand step it completes. Anything else
stops the run before deploy with a message naming the migration file and the field.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff.acceptance.sidecar import DatabaseSpec
from handoff.checks.finding import Finding
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec
from handoff.evidence.model import EvidenceStatus

#: The sidecar field naming the migration command (errors about running it name it).
COMMAND_FIELD = "service.database.migrations.command"


class Phase(enum.Enum):
    """When a migration may run in the timeline."""

    EXPAND = "expand"  # before the deploy: the old colour keeps working on the new schema
    CONTRACT = "contract"  # after the handover: the old colour is retired


@dataclass(frozen=True)
class Pending:
    """One migration the database has not run yet, as the release's command declared it."""

    file: str
    version: int
    phase: str  # as written in the file: judged, not trusted
    down: bool = False
    completes: int | None = None
    completes_phase: str = ""


@dataclass(frozen=True)
class SchemaStatus:
    """What the migration command's `status` reported."""

    reachable: bool
    version: int = 0
    release_version: int = 0
    pending: tuple[Pending, ...] = ()
    unknown_applied: tuple[int, ...] = ()
    changed: tuple[str, ...] = ()
    # Problems the command itself reported, located ("file: field") when it could.
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationPlan:
    """The pending steps by when they run: expand before deploy, contract after handover."""

    expand: tuple[Pending, ...] = ()
    contract: tuple[Pending, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Tell whether the steps can run the blue-green way."""
        return not self.problems


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _step_of(value: dict[str, Any]) -> Pending:
    completes = value.get("completes")
    return Pending(
        str(value.get("file", "?")),
        int(value.get("version") or 0),
        str(value.get("phase", "")),
        bool(value.get("down")),
        int(completes) if completes is not None else None,
        str(value.get("completes_phase", "")),
    )


def steps_reported(lines: Sequence[str], kind: str) -> tuple[Pending, ...]:
    """Return the steps the command reported as ``kind`` ("applied", "undone"), in order."""
    return tuple(
        _step_of(_json(rest))
        for kind_found, _, rest in (line.partition(" ") for line in lines)
        if kind_found == kind
    )


def version_reported(lines: Sequence[str]) -> int | None:
    """Return the schema version the command reported last, None when it reported none."""
    found = [
        _json(rest) for k, _, rest in (line.partition(" ") for line in lines) if k == "database"
    ]
    return int(found[-1].get("version") or 0) if found else None


@dataclass(frozen=True)
class Undo:
    """How to undo the expand steps a run applied: newest first, while each has a down step."""

    versions: tuple[int, ...]
    # The newest step that cannot be undone (no down step), which stops the undo there.
    blocked_by: str = ""


def undo_of(applied: Sequence[Pending]) -> Undo:
    """Plan the undo of steps applied in one run (the old colour broke on the new schema)."""
    versions: list[int] = []
    for step in sorted(applied, key=lambda s: s.version, reverse=True):
        if not step.down:
            return Undo(tuple(versions), step.file)
        versions.append(step.version)
    return Undo(tuple(versions))


def read_status(lines: Sequence[str]) -> SchemaStatus:
    """Read the command's `<kind> <json>` lines; anything else is ignored (it is only log)."""
    reachable, version, release_version, error = False, 0, 0, ""
    pending: list[Pending] = []
    unknown: list[int] = []
    changed: list[str] = []
    errors: list[str] = []
    for line in lines:
        kind, _, rest = line.partition(" ")
        value = _json(rest)
        if kind == "database":
            reachable = bool(value.get("reachable"))
            version = int(value.get("version") or 0)
            release_version = int(value.get("release_version") or 0)
            error = str(value.get("error") or "")
        elif kind == "pending":
            pending.append(_step_of(value))
        elif kind == "unknown-applied":
            unknown.append(int(value.get("version") or 0))
        elif kind == "changed":
            changed.append(str(value.get("file", "?")))
        elif kind == "error":
            where = ": ".join(str(value[k]) for k in ("file", "field") if k in value)
            errors.append(f"{where or 'migration command'}: {value.get('why', 'refused')}")
    if error:
        errors.append(f"database not reachable: {error}")
    return SchemaStatus(
        reachable,
        version,
        release_version,
        tuple(sorted(pending, key=lambda p: p.version)),
        tuple(unknown),
        tuple(changed),
        tuple(errors),
    )


def plan(status: SchemaStatus) -> MigrationPlan:
    """Sort the pending steps into expand and contract, or say why they cannot run."""
    problems = list(status.errors)
    problems += [
        f"the database ran step {v:04d}, which this release does not ship (an older "
        "release on a newer schema)"
        for v in status.unknown_applied
    ]
    problems += [f"{f}: changed since the database ran it" for f in status.changed]
    expand: list[Pending] = []
    contract: list[Pending] = []
    for step in status.pending:
        try:
            phase = Phase(step.phase)
        except ValueError:
            found = repr(step.phase) if step.phase else "nothing (no '-- phase:' line)"
            problems.append(f"{step.file}: phase: expected expand or contract, found {found}")
            continue
        if phase is Phase.EXPAND:
            if contract:
                problems.append(
                    f"{step.file}: phase: an expand step after the contract step "
                    f"{contract[0].file}: expands run before the deploy and contracts after "
                    "the handover, so this order cannot be kept"
                )
            expand.append(step)
            continue
        problem = _contract_problem(step)
        if problem:
            problems.append(f"{step.file}: completes: {problem}")
        contract.append(step)
    return MigrationPlan(tuple(expand), tuple(contract), tuple(problems))


def _contract_problem(step: Pending) -> str:
    """Say why a contract step has no expand before it, or '' when it has."""
    if step.completes is None:
        return (
            "a contract step has no expand before it: name the expand step it completes "
            "('-- completes: NNNN')"
        )
    if step.completes >= step.version:
        return f"names {step.completes:04d}, which is not before it ({step.version:04d})"
    if step.completes_phase != Phase.EXPAND.value:
        what = (
            f"a {step.completes_phase} step"
            if step.completes_phase
            else "no step this release ships"
        )
        return f"names {step.completes:04d}, {what}, not an expand step"
    return ""


def _phrase(step: Pending) -> str:
    extra = ", down step" if step.down else ""
    if step.completes is not None:
        extra += f", completes {step.completes:04d}"
    return f"{step.file} ({step.phase}{extra})"


def judge_database(status: SchemaStatus, exit_code: int | None) -> Finding:
    """Decide whether the database is migration-ready for this release."""
    migrations = plan(status)
    problems = list(migrations.problems)
    if exit_code is None:
        problems.append("the migration command was killed at its timeout")
    elif exit_code != 0 and not problems:
        problems.append(f"the migration command exited {exit_code}")
    pending = [*migrations.expand, *migrations.contract]
    summary = (
        f"database {'reachable' if status.reachable else 'not reachable'}; schema version "
        f"{status.version} (release ships up to {status.release_version}); pending: "
        + (", ".join(_phrase(p) for p in pending) or "none")
    )
    if problems:
        summary += "; refused: " + "; ".join(problems)
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        summary,
        {
            "reachable": status.reachable,
            "schema_version": status.version,
            "release_version": status.release_version,
            "pending": [
                {"file": p.file, "version": p.version, "phase": p.phase, "down": p.down}
                for p in status.pending
            ],
            "expand_before_deploy": [p.file for p in migrations.expand],
            "contract_after_handover": [p.file for p in migrations.contract],
        },
        {"reachable": True, "phases": [p.value for p in Phase], "contract": "completes an expand"},
    )


def configured(spec: DatabaseSpec | None) -> list[str]:
    """Return what preflight checks of the database, a phrase (for lint); none without one."""
    if spec is None:
        return []
    if spec.migrations is None:
        return [f"database ({spec.conn_id}): no migration command, schema not checked"]
    argv = [*spec.migrations.command, "status"]
    return [f"database ({spec.conn_id}: reachable, schema version, pending migrations by {argv})"]


# Recorded by preflight under the contract's Dependencies ("Database"), like the other
# dependencies: no rule binds a criterion to it by its words, and no gate. Its settings live
# under the sidecar's service.database (the engine reads them too), not under checks:.
SPEC = CheckSpec(
    kind=CheckKind.DATABASE,
    rules=(),
    phases=(CheckPhase.PREFLIGHT,),
    settings=(),
)
