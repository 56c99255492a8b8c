"""The deployment plan: a pure derivation of contract + sidecar + environment."""

from handoff.plan.derive import derive_plan
from handoff.plan.model import CheckKind, CheckPhase, DeploymentPlan, StepKind

__all__ = ["CheckKind", "CheckPhase", "DeploymentPlan", "StepKind", "derive_plan"]
