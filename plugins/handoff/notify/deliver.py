"""Deliver messages through the Slack provider's webhook hook: bounded retries, never raises.

A message is sent at most once per run (its key: DAG, run, event, step, looked up in the
`Ledger`), retried with exponential backoff on failure, and whatever happens is logged and
recorded. A notification never fails a deployment and never causes a rollback, so `deliver`
returns an outcome instead of raising.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from handoff.notify.ledger import Entry, Ledger
from handoff.notify.messages import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a message is retried.

    Parameters: ``tries`` attempts in all; ``backoff_s`` before the second, doubled after each
    further failure; ``timeout_s`` per request. A rehearsal scales the backoff down like every
    other wait (``scaled``).
    """

    tries: int = 3
    backoff_s: float = 2.0
    timeout_s: int = 10

    def scaled(self, time_scale: float) -> RetryPolicy:
        """Return the policy of a run compressed by ``time_scale``."""
        return RetryPolicy(self.tries, max(self.backoff_s / time_scale, 0.01), self.timeout_s)

    def delay(self, attempt: int) -> float:
        """Return the wait after failed attempt number ``attempt`` (1-based)."""
        return float(self.backoff_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Delivery:
    """What happened to one message in this try: sent, already sent, or failed."""

    event: str
    step: str
    key: str
    status: str
    attempts: int
    error: str = ""

    def to_xcom(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)


def message_key(dag_id: str, run_id: str, message: Message) -> str:
    """Return the idempotency key of a message within a run."""
    return f"{dag_id}|{run_id}|{message.event.name}|{message.step}"


def _post(conn_id: str, message: Message, timeout_s: int) -> None:
    # Imported here: a DAG file never pays for the Slack SDK at parse time.
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    # No SDK-level retries: this module's policy is the only one, so attempts are counted.
    hook = SlackWebhookHook(slack_webhook_conn_id=conn_id, timeout=timeout_s, retry_handlers=[])
    hook.send_dict(message.payload())


def deliver(
    message: Message,
    *,
    conn_id: str,
    ledger: Ledger,
    dag_id: str,
    run_id: str,
    policy: RetryPolicy | None = None,
) -> Delivery:
    """Send one message unless it was sent already; retry, log and record; never raise."""
    policy = policy or RetryPolicy()
    key = message_key(dag_id, run_id, message)
    event, step = message.event.name, message.step
    try:
        if ledger.sent(key):
            log.info("slack: %s (%s) was sent by an earlier try; not sent again", event, step)
            return Delivery(event, step, key, "already sent", 0)
    except Exception as e:  # the ledger is unreadable: better a duplicate than a lost message
        log.warning("slack: notification ledger %s unreadable (%s); sending anyway", ledger.path, e)
    error = ""
    attempt = 0
    for attempt in range(1, policy.tries + 1):
        try:
            _post(conn_id, message, policy.timeout_s)
        except Exception as e:  # any failure to notify is recorded, never raised
            error = f"{type(e).__name__}: {e}"
            log.warning(
                "slack: %s (%s) attempt %s/%s via connection %r failed: %s",
                event,
                step,
                attempt,
                policy.tries,
                conn_id,
                error,
            )
            if attempt < policy.tries:
                time.sleep(policy.delay(attempt))
            continue
        error = ""
        log.info("slack: sent %s (%s) via connection %r, attempt %s", event, step, conn_id, attempt)
        break
    status = "failed" if error else "sent"
    if error:
        log.error(
            "slack: %s (%s) NOT delivered after %s attempts; recorded for the report, "
            "the deployment goes on",
            event,
            step,
            attempt,
        )
    outcome = Delivery(event, step, key, status, attempt, error)
    try:
        ledger.record(Entry(key, dag_id, run_id, event, step, status, attempt, error, _now()))
    except Exception as e:
        log.error("slack: could not record %s (%s) in %s: %s", event, step, ledger.path, e)
    return outcome


def _now() -> str:
    return datetime.now(UTC).isoformat()
