"""Health: consecutive healthy answers through the preview, then through live.

Both gates run in every DAG (`handoff.tasks.steps.health_gate`): a release that is not
healthy is never switched to, and a live colour that turns unhealthy is rolled back.
"""

from __future__ import annotations

from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, GateRuns, Rule

_GATE_TASK = "handoff.tasks.steps:health_gate"
SPEC = CheckSpec(
    kind=CheckKind.HEALTH,
    rules=(Rule(110, ("health",)),),
    phases=(CheckPhase.PRE_SWITCH, CheckPhase.POST_SWITCH),
    gates=tuple(
        Gate(
            phase, f"health_via_{listener}", _GATE_TASK, (("listener", listener),), GateRuns.ALWAYS
        )
        for phase, listener in (
            (CheckPhase.PRE_SWITCH, "preview"),
            (CheckPhase.POST_SWITCH, "live"),
        )
    ),
)
