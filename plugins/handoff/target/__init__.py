"""The deployment-target port and the plain values it speaks in (no target SDK imported).

Typical use from a task::

    target = engine_of(handoff)          # a DeploymentTarget chosen by the environment
    target.deploy("shop:1.4.0")          # idle colour runs the release, ready through preview
    target.switch("shop:1.4.0")          # live traffic moves, verified through live
"""

from __future__ import annotations

from handoff.target.errors import CommandUnusable, InvalidState, TargetError
from handoff.target.kinds import DEFAULT_KIND, TargetKind
from handoff.target.lease import Acquisition, EndedCheck, LeaseHolder, LeaseOutcome
from handoff.target.models import (
    ChangeOutcome,
    Colour,
    ColourPosture,
    ColourState,
    CommandResult,
    DeployResult,
    EngineCapacity,
    ProbeSummary,
    RetireResult,
    RouterState,
    ScanResult,
    ScrapePoints,
    ServiceState,
    SwitchResult,
    ThirdPartyAnswer,
    ThirdPartyCall,
)
from handoff.target.port import DeploymentTarget, LineSink, OutagePing

__all__ = [
    "DEFAULT_KIND",
    "Acquisition",
    "ChangeOutcome",
    "Colour",
    "ColourPosture",
    "ColourState",
    "CommandResult",
    "CommandUnusable",
    "DeployResult",
    "DeploymentTarget",
    "EndedCheck",
    "EngineCapacity",
    "InvalidState",
    "LeaseHolder",
    "LeaseOutcome",
    "LineSink",
    "OutagePing",
    "ProbeSummary",
    "RetireResult",
    "RouterState",
    "ScanResult",
    "ScrapePoints",
    "ServiceState",
    "SwitchResult",
    "TargetError",
    "TargetKind",
    "ThirdPartyAnswer",
    "ThirdPartyCall",
]
