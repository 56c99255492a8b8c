"""The kinds of automatic check and the phases of the timeline they run in.

Plain enums, imported by every layer that names a check (the plan's bindings, evidence
records, the DAG). A kind's words, phases, settings and gates are declared in its own
module of this package and registered in `handoff.checks.registry`.
"""

from __future__ import annotations

import enum


class CheckKind(enum.Enum):
    """The automatic checks an acceptance criterion can be bound to."""

    ZERO_DOWNTIME = "zero-downtime probe"
    HEALTH = "health probe"
    PERFORMANCE = "latency against budget and baseline"
    SECURITY = "security posture"
    ACCESSIBILITY = "accessibility audit"
    SMOKE = "smoke journeys"
    MONITORING = "metrics watched during the windows"
    ROLLBACK_READINESS = "rollback readiness and time"
    DATA_INTEGRITY = "acknowledged writes survive"
    CONFIGURATION = "configuration recorded and revertible"
    COMMUNICATION = "planned messages sent"
    DEPENDENCIES = "dependencies proven before deploy"
    DATABASE = "database schema and migrations ready"
    NOT_VERIFIED = "not verified"


class CheckPhase(enum.Enum):
    """When in the timeline a check runs."""

    PREFLIGHT = "preflight"
    PRE_SWITCH = "pre-switch (preview)"
    SWITCH = "during the switch"
    POST_SWITCH = "post-switch (live)"
    WATCH = "validation and monitoring windows"
    WHOLE_RUN = "whole run"
