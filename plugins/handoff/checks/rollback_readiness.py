"""Rollback readiness: the old colour is warm and the router would survive a restart."""

from __future__ import annotations

from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, Rule

SPEC = CheckSpec(
    kind=CheckKind.ROLLBACK_READINESS,
    rules=(Rule(220, ("rollback",)),),
    phases=(CheckPhase.POST_SWITCH,),
    gates=(
        Gate(
            CheckPhase.POST_SWITCH,
            "rollback_readiness",
            "handoff.tasks.readiness_records:rollback_readiness",
        ),
    ),
)
