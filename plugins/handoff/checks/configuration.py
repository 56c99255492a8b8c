"""Configuration: the hashes of contract, sidecar and environment and the old colour's config.

Recorded by preflight (`handoff.tasks.steps.preflight`), so no gate.
"""

from __future__ import annotations

from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Rule

SPEC = CheckSpec(
    kind=CheckKind.CONFIGURATION,
    rules=(Rule(240, ("configuration",)),),
    phases=(CheckPhase.PREFLIGHT,),
)
