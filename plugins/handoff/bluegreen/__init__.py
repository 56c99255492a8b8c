"""Blue-green deployments on a Docker engine behind a HAProxy router (no Airflow import).

Typical use from a task::

    engine = BlueGreenEngine(BlueGreenConfig(service="shop", live_port=8080, preview_port=8081))
    engine.deploy("shop:1.4.0")      # idle colour runs the release, ready through preview
    engine.switch("shop:1.4.0")      # live traffic moves, verified through the live listener
    engine.rollback()                # back to the warm previous colour
    engine.retire_old()              # remove the colour that is not live
"""

from __future__ import annotations

from handoff.bluegreen.config import BlueGreenConfig, Colour, Listener, VolumeMount
from handoff.bluegreen.engine import BlueGreenEngine
from handoff.bluegreen.errors import (
    BlueGreenError,
    DeploymentLocked,
    EngineUnreachable,
    ImageMissing,
    InvalidState,
    PortTaken,
    ReleaseNeverReady,
    RouterConfigRejected,
    RouterUnreachable,
    VerificationFailed,
)
from handoff.target.models import (
    ChangeOutcome,
    ColourState,
    DeployResult,
    ProbeSummary,
    RetireResult,
    RouterState,
    ServiceState,
    SwitchResult,
)

__all__ = [
    "BlueGreenConfig",
    "BlueGreenEngine",
    "BlueGreenError",
    "ChangeOutcome",
    "Colour",
    "ColourState",
    "DeployResult",
    "DeploymentLocked",
    "EngineUnreachable",
    "ImageMissing",
    "InvalidState",
    "Listener",
    "PortTaken",
    "ProbeSummary",
    "ReleaseNeverReady",
    "RetireResult",
    "RouterConfigRejected",
    "RouterState",
    "RouterUnreachable",
    "ServiceState",
    "SwitchResult",
    "VerificationFailed",
    "VolumeMount",
]
