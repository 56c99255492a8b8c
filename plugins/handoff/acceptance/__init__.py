"""Acceptance of a contract: the sidecar, the environment settings and their cross-checks."""

from handoff.acceptance.cross_checks import cross_check
from handoff.acceptance.environment import Environment
from handoff.acceptance.sidecar import Acceptance
from handoff.acceptance.yaml_files import Loaded, load_yaml_model

__all__ = ["Acceptance", "Environment", "Loaded", "cross_check", "load_yaml_model"]
