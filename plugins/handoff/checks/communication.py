"""Communication: every planned message sent and recorded in the run's ledger.

Recorded with the monitoring criteria by the `observability` task, so no gate of its own.
"""

from __future__ import annotations

from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Rule

SPEC = CheckSpec(
    kind=CheckKind.COMMUNICATION,
    rules=(Rule(250, ("communication",)), Rule(260, ("notification",))),
    phases=(CheckPhase.WHOLE_RUN,),
)
