"""The communication plan inside tasks: who to tell (Slack connection), the run, the ledger.

Every function here is safe to call from a step or a task-level callback: a notification is
logged and recorded, and never raises into the task (it never fails the deployment and never
causes a rollback). Only `check_slack_connection` raises, on purpose, at preflight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import BaseHook, get_current_context
from airflow.sdk.exceptions import AirflowFailException

from handoff.catalog import Handoff
from handoff.evidence.store import report_dir_of
from handoff.notify import messages
from handoff.notify.deliver import Delivery, RetryPolicy, deliver
from handoff.notify.ledger import Ledger
from handoff.notify.messages import Message, RunRef
from handoff.plan.graph import MONITORING_GROUP, PREFLIGHT_TASK, consequence_of
from handoff.runtime.airflow_urls import airflow_base_url
from handoff.tasks.context import handoff_from

log = logging.getLogger(__name__)

LEDGER_FILE = "notifications.sqlite"


def slack_conn_id(handoff: Handoff) -> str:
    """Return the Slack connection id: the sidecar's override, else the environment's."""
    assert handoff.acceptance is not None and handoff.environment is not None
    return handoff.acceptance.slack_conn_id or handoff.environment.slack_conn_id


def ledger_of(handoff: Handoff) -> Ledger:
    """Return the notification ledger under the handoff's report directory."""
    return Ledger(report_dir_of(handoff) / LEDGER_FILE)


def check_slack_connection(handoff: Handoff) -> str:
    """Fail preflight, naming the fix, when the Slack connection does not exist."""
    conn_id = slack_conn_id(handoff)
    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as e:
        raise AirflowFailException(
            f"the Slack connection {conn_id!r} (slack_conn_id of the environment or sidecar) "
            f"does not exist ({type(e).__name__}); nothing was deployed. Create it with "
            f"`airflow connections add {conn_id} --conn-type slackwebhook --conn-password "
            f"<webhook URL>` or set AIRFLOW_CONN_{conn_id.upper()}"
        ) from e
    log.info("slack: connection %r found (type %s)", conn_id, connection.conn_type)
    return conn_id


def run_ref(handoff: Handoff, context: Mapping[str, Any]) -> RunRef:
    """Return the run a message is about."""
    assert handoff.plan is not None
    ti = context["ti"]
    return RunRef(handoff.plan.handoff_id, ti.dag_id, ti.run_id, airflow_base_url())


def _policy(context: Mapping[str, Any]) -> RetryPolicy:
    """Return the retry policy, scaled down in a rehearsal like every other wait."""
    try:
        settings = context["ti"].xcom_pull(task_ids=PREFLIGHT_TASK)["settings"]
        return RetryPolicy().scaled(float(settings["time_scale"]))
    except Exception:  # no preflight result (preflight itself failed): the real policy
        return RetryPolicy()


def announce(
    handoff: Handoff,
    build: Callable[[RunRef], Message],
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and deliver one message of this run; return its outcome; never raise."""
    try:
        context = context if context is not None else get_current_context()
        ref = run_ref(handoff, context)
        message = build(ref)
        outcome: Delivery = deliver(
            message,
            conn_id=slack_conn_id(handoff),
            ledger=ledger_of(handoff),
            dag_id=ref.dag_id,
            run_id=ref.run_id,
            policy=_policy(context),
        )
        return outcome.to_xcom()
    except Exception as e:  # a notification never fails a deployment
        log.exception("slack: could not build or deliver a notification")
        return {"status": "failed", "error": f"{type(e).__name__}: {e}"}


def escalate(contract_path: str, context: Mapping[str, Any]) -> None:
    """Task-level on_failure_callback: escalate which step failed, why, and its log."""
    try:
        handoff = handoff_from(contract_path, context)
        ti = context["ti"]
        reason = str(context.get("exception") or "see the task log") or "see the task log"
        task_id, try_number = ti.task_id, int(ti.try_number or 1)
        consequence = consequence_of(task_id)
        log.error("escalation: %s failed (%s); next: %s", task_id, reason, consequence)
        announce(
            handoff,
            lambda ref: messages.escalation(
                ref, task_id=task_id, try_number=try_number, reason=reason, consequence=consequence
            ),
            context,
        )
    except Exception:  # a callback that raises would only hide the real failure
        log.exception("escalation of a failed step could not be sent")


def _release(context: Mapping[str, Any]) -> str:
    settings = context["ti"].xcom_pull(task_ids=PREFLIGHT_TASK)["settings"]
    return str(settings["release"])


def announce_on_success(
    contract_path: str, build: Callable[[RunRef, str], Message]
) -> Callable[[Mapping[str, Any]], None]:
    """Return a task-level on_success_callback that announces a passed phase."""

    def callback(context: Mapping[str, Any]) -> None:
        try:
            handoff = handoff_from(contract_path, context)
            release = _release(context)
            announce(handoff, lambda ref: build(ref, release), context)
        except Exception:
            log.exception("a phase announcement could not be sent")

    return callback


def validation_passed(ref: RunRef, release: str) -> Message:
    """Build the message of a passed validation period (gate answered, no breach)."""
    return messages.validation_passed(ref, release=release)


def monitoring_passed(ref: RunRef, release: str) -> Message:
    """Build the status update of a passed monitoring period."""
    return messages.phase(
        ref,
        step=MONITORING_GROUP,
        title=f"monitoring period passed for {release}",
        detail="No threshold was breached during the monitoring period. "
        "The operations team's handover sign-off is next.",
    )
