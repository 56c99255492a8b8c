"""Zero downtime: the switch step probes live through the router while traffic moves.

Measured by the switch task itself (`handoff.tasks.steps.switch_traffic`), so no gate.
"""

from __future__ import annotations

from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Rule

SPEC = CheckSpec(
    kind=CheckKind.ZERO_DOWNTIME,
    rules=(
        Rule(10, ("zero", "downtime")),
        Rule(20, ("downtime",)),
        Rule(30, ("blue", "green")),
    ),
    phases=(CheckPhase.SWITCH,),
)
