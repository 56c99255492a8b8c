"""Human gates: go/no-go, "no user-reported issues", handover sign-off.

They are Airflow's human-in-the-loop approval operators (the task waits for an answer given
in the UI or through the REST API; who answered and when is recorded with the task). In a
rehearsal the answer comes from the run's parameters instead, so a drill never waits for a
person; the log says so. A rehearsal answer left empty makes the drill wait for a person too,
to rehearse the human side of a gate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from handoff.plan.graph import WATCH_TASKS
from handoff.tasks.context import run_settings

log = logging.getLogger(__name__)

APPROVE = ApprovalOperator.APPROVE
REJECT = ApprovalOperator.REJECT
# What a rehearsal answer must say for the gate to approve.
_APPROVING = frozenset({"approve", "yes", "go", "none reported", "accept handover"})


# What the subject says of the release before a run has one (the DAG as parsed, the UI).
_RELEASE_UNTIL_RUN = "the run's release"


class HandoffGate(ApprovalOperator):
    """An approval that fails on reject (so the run aborts or rolls back), answered in drills.

    Contract text is data, never template source: ``subject`` and ``body`` are not templated
    (ApprovalOperator templates both, so a contract line ``{{ conn.x.password }}`` would be
    rendered with the secret, and an unclosed ``{{`` would fail the gate). They are
    ``str.format`` patterns written by the project; the contract's text comes in ``values``
    and the run's release is filled in at run time, neither of them ever parsed.

    Parameters: ``answer_key`` names the rehearsal answer in the run's settings
    (``go_no_go``, ``user_issues`` or ``handover``); ``subject`` and ``body`` are patterns
    over ``values`` and ``{release}``; the rest is ApprovalOperator's.
    """

    template_fields: Sequence[str] = ()

    def __init__(
        self,
        *,
        answer_key: str,
        subject: str,
        body: str,
        values: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.subject_pattern, self.body_pattern = subject, body
        self.values = dict(values or {})
        shown = self.fill(_RELEASE_UNTIL_RUN)
        super().__init__(fail_on_reject=True, subject=shown[0], body=shown[1], **kwargs)
        self.answer_key = answer_key

    def fill(self, release: str) -> tuple[str, str]:
        """Return the subject and body for a release; values are inserted, never parsed."""
        values = {**self.values, "release": release}
        return self.subject_pattern.format_map(values), self.body_pattern.format_map(values)

    def execute(self, context: Any) -> Any:
        """Ask a person, or answer from the run's parameters in a rehearsal."""
        settings = run_settings()
        self.subject, self.body = self.fill(settings.release)
        undecided = inconclusive_analyses(context)
        if undecided:
            # Policy "ask": the windows could not judge these; the person answering decides.
            self.body += "\n\nThe watch windows could not judge these metrics:\n" + "\n".join(
                f"- {line}" for line in undecided
            )
            log.warning("asking about inconclusive analyses: %s", "; ".join(undecided))
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


def inconclusive_analyses(context: Any) -> list[str]:
    """Return a line per metric analysis whose window left it to a person (policy "ask")."""
    from handoff.watch.operator import VERDICT_KEY  # the watch layer, only at run time

    lines: list[str] = []
    ti = context.get("ti") if isinstance(context, Mapping) else None
    if ti is None:
        return lines
    for task_id in WATCH_TASKS:
        verdict = ti.xcom_pull(task_ids=task_id, key=VERDICT_KEY)
        for analysis in (verdict or {}).get("analyses") or ():
            if analysis.get("action") == "ask":
                reasons = [r for r in analysis.get("reasons") or () if r]
                lines.append(
                    f"{verdict.get('window', task_id)}: {analysis.get('metric')} "
                    f"{analysis.get('status')} ({reasons[0] if reasons else 'no reason given'})"
                )
    return lines
