"""The registry of checks: every kind, one line each, in an explicit order.

Within a phase the gates run in this list's order (health first, the one-off observability
record last). The order in which criterion words are tried is the rules' own priority,
across all kinds. Adding a kind: a module declaring its `SPEC`, and one line here
(docs/adding-a-check.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from handoff.checks import (
    accessibility,
    communication,
    configuration,
    database,
    dependencies,
    health,
    integrity,
    monitoring,
    performance,
    rollback_readiness,
    security,
    smoke,
    zero_downtime,
)
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, by_kind, rules_in_order

SPECS: tuple[CheckSpec, ...] = (
    health.SPEC,
    performance.SPEC,
    security.SPEC,
    accessibility.SPEC,
    smoke.SPEC,
    integrity.SPEC,
    rollback_readiness.SPEC,
    monitoring.SPEC,
    zero_downtime.SPEC,
    configuration.SPEC,
    communication.SPEC,
    dependencies.SPEC,
    database.SPEC,
)

_BY_KIND: Mapping[CheckKind, CheckSpec] = by_kind(SPECS)
RULES: list[tuple[tuple[str, ...], CheckKind]] = rules_in_order(SPECS)


def spec_of(kind: CheckKind) -> CheckSpec | None:
    """Return a kind's spec, or None for NOT_VERIFIED (no check)."""
    return _BY_KIND.get(kind)


def gates_in(phase: CheckPhase) -> list[tuple[CheckSpec, Gate]]:
    """Return the gates of a phase with their kind's spec, in registration order."""
    return [(spec, gate) for spec in SPECS for gate in spec.gates if gate.phase is phase]
