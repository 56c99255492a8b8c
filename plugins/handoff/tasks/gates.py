"""Human gates: go/no-go, "no user-reported issues", handover sign-off.

They are Airflow's human-in-the-loop approval operators (the task waits for an answer given
in the UI or through the REST API; who answered and when is recorded with the task). In a
rehearsal the answer comes from the run's parameters instead, so a drill never waits for a
person; the log says so. A rehearsal answer left empty makes the drill wait for a person too,
to rehearse the human side of a gate.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from handoff.tasks.context import run_settings

log = logging.getLogger(__name__)

APPROVE = ApprovalOperator.APPROVE
REJECT = ApprovalOperator.REJECT
# What a rehearsal answer must say for the gate to approve.
_APPROVING = frozenset({"approve", "yes", "go", "none reported", "accept handover"})


class HandoffGate(ApprovalOperator):
    """An approval that fails on reject (so the run aborts or rolls back), answered in drills.

    Parameters: ``answer_key`` names the rehearsal answer in the run's settings
    (``go_no_go``, ``user_issues`` or ``handover``); the rest is ApprovalOperator's.
    """

    def __init__(self, *, answer_key: str, **kwargs: Any) -> None:
        super().__init__(fail_on_reject=True, **kwargs)
        self.answer_key = answer_key

    def execute(self, context: Any) -> Any:
        """Ask a person, or answer from the run's parameters in a rehearsal."""
        settings = run_settings()
        answer = str(getattr(settings.answers, self.answer_key)).strip()
        if not settings.rehearsal or not answer:
            log.info("waiting for a person to answer in the UI or the REST API: %s", self.subject)
            return super().execute(context)
        chosen = APPROVE if answer.strip().lower() in _APPROVING else REJECT
        log.info(
            "rehearsal: %r answered %r from the run's parameters -> %s",
            self.subject,
            answer,
            chosen,
        )
        return self.execute_complete(
            context,
            {
                "chosen_options": [chosen],
                "params_input": {},
                "responded_at": datetime.now(UTC),
                "responded_by_user": {"id": "rehearsal", "name": f"rehearsal ({self.answer_key})"},
            },
        )
