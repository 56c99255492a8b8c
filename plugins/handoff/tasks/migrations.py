"""Expand before the deploy: apply the release's expand steps, then prove the old colour survives.

The release's own migration command (`apply expand`) runs in a one-off container of the
release image; then the old colour's smoke journeys run again on live, against the expanded
schema, before any user sees the release. When the command fails or a journey fails, the
steps this run applied are undone, newest first, by their down steps, and the task fails
(abort: nothing was deployed); a step without a down step stops the undo there and the
failure names the schema's state, for a person to decide (escalation).

Not yet in the seed DAG (`plan/graph.py`): `expand_schema` is the task callable a graph
entry will name; `run_expand` is the engine-level step, tested on real Docker + PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from handoff.acceptance.sidecar import MigrationSettings
from handoff.checks import Finding
from handoff.checks.database import (
    Pending,
    plan,
    read_status,
    steps_reported,
    undo_of,
    version_reported,
)
from handoff.plan import CheckKind
from handoff.target import DeploymentTarget, TargetError
from handoff.tasks.check_gates import smoke_findings
from handoff.tasks.context import engine_of, handoff_from, run_settings
from handoff.tasks.evidence_records import record

log = logging.getLogger(__name__)

#: Where the old colour's journeys are recorded: on live, before the release is deployed.
SMOKE_TARGET = "live (old colour, expanded schema)"


class ExpandFailed(Exception):
    """The expand could not be kept: the message says what ran, what was undone, what is left."""


@dataclass(frozen=True)
class ExpandOutcome:
    """What the expand did: the steps applied, the schema version, the old colour's journeys."""

    applied: tuple[str, ...]
    version: int | None
    old_release: str | None
    journeys: tuple[Finding, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": list(self.applied),
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
    if old is None:  # a first deployment: no old colour to break
        return ExpandOutcome(tuple(p.file for p in applied), version, None)
    journeys = tuple(old_colour_journeys())
    for finding in journeys:
        log.info("old colour %s on the expanded schema: %s", old, finding.summary)
    broken = [f for f in journeys if f.failed]
    if broken:
        state_now = _undo(target, release, settings, applied, version)
        raise ExpandFailed(
            f"the expand broke the old colour ({old}): {broken[0].summary}; {state_now}"
        )
    return ExpandOutcome(tuple(p.file for p in applied), version, old, journeys)


def expand_schema(contract_path: str) -> dict[str, Any]:
    """Task callable: expand before the deploy, the old colour's journeys rerun on live."""
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None
    database = handoff.acceptance.service.database
    if database is None or database.migrations is None:
        return {"applied": [], "reason": "no database migrations (service.database.migrations)"}
    release = run_settings().release
    journeys: list[Finding] = []

    def rerun() -> list[Finding]:
        journeys.extend(smoke_findings(handoff, "live"))
        return journeys

    try:
        outcome = run_expand(engine_of(handoff), release, database.migrations, rerun)
    except (ExpandFailed, TargetError) as e:
        raise AirflowFailException(f"expand before deploy: {e} (nothing was deployed)") from e
    finally:
        if journeys:
            record(handoff, [(CheckKind.SMOKE, journeys)], target=SMOKE_TARGET)
    return outcome.to_json()
