"""Monitoring: the service's metrics endpoint on live, then the watches of the windows.

The `observability` task after the switch records the monitoring criteria (and, with
them, the communication criteria and those no check matches); the watch windows judge the
rest. Its rules come before the general ones ("security monitoring" is monitoring).
"""

from __future__ import annotations

from handoff.acceptance.sidecar import MonitoringSettings
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, GateRuns, Rule, SidecarSettings

SPEC = CheckSpec(
    kind=CheckKind.MONITORING,
    rules=(
        Rule(40, ("security", "monitoring")),
        Rule(50, ("performance", "monitoring")),
        Rule(60, ("monitoring",)),
        Rule(70, ("tracking",)),
        Rule(80, ("analytics",)),
        Rule(90, ("observability",)),
        Rule(100, ("alerting",)),
    ),
    phases=(CheckPhase.WATCH,),
    settings=(SidecarSettings("monitoring", MonitoringSettings),),
    gates=(
        Gate(
            CheckPhase.POST_SWITCH,
            "observability",
            "handoff.tasks.readiness_records:observability",
            runs=GateRuns.ALWAYS,
            also_records=(CheckKind.COMMUNICATION, CheckKind.NOT_VERIFIED),
        ),
    ),
)
