"""Validation checks bound to a contract's acceptance criteria (no Airflow import).

Each kind of check declares itself in one module (its `SPEC`: criterion words, phases,
sidecar settings, gates), listed in `handoff.checks.registry`. A module measures one thing
through a router listener or the engine's inspection and decides with a pure function, so
the decision logic is tested in milliseconds and the measurement against real containers.
A decision is a `Finding`; the gate tasks in `handoff.tasks.check_gates` turn findings into
evidence records.
"""

from __future__ import annotations

from handoff.checks.finding import Finding

__all__ = ["Finding"]
