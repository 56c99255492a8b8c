"""Validation checks bound to a contract's acceptance criteria (no Airflow import).

Each module measures one thing through a router listener or the engine's inspection and
decides with a pure function, so the decision logic is tested in milliseconds and the
measurement against real containers. A decision is a `Finding`; the gate tasks in
`handoff.tasks.gate_checks` turn findings into evidence records.
"""

from __future__ import annotations

from handoff.checks.finding import Finding

__all__ = ["Finding"]
