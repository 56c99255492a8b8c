"""Wait for the deploy time: deferred to the triggerer for real waits, inline for short ones."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, Context

log = logging.getLogger(__name__)

# Waits at most this long happen in the worker. A deferral that resumes within the
# scheduler's loop can race the executor's report of the deferring process, and Airflow 3.3
# then fails the task as "changed externally"; a few seconds of a worker slot cost nothing.
INLINE_WAIT = timedelta(seconds=10)


class WaitUntilOperator(BaseOperator):
    """Wait until ``target_time`` (ISO 8601, templated) without holding a slot for long waits."""

    template_fields = ("target_time",)

    def __init__(self, *, target_time: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_time = target_time

    def execute(self, context: Context) -> None:
        """Return at the target time: now, after a short sleep, or after a deferral."""
        target = datetime.fromisoformat(str(self.target_time))
        remaining = target - datetime.now(UTC)
        if remaining <= timedelta(0):
            log.info("the deploy time %s has come", target.isoformat())
            return
        if remaining <= INLINE_WAIT:
            log.info(
                "waiting %.1f s for the deploy time %s",
                remaining.total_seconds(),
                target.isoformat(),
            )
            time.sleep(remaining.total_seconds())
            return
        log.info("deferring until the deploy time %s (%s from now)", target.isoformat(), remaining)
        self.defer(trigger=DateTimeTrigger(moment=target), method_name="execute_complete")

    def execute_complete(self, context: Context, event: Any = None) -> None:
        """Resume after the deferral: the deploy time has come."""
        log.info("the deploy time has come (%s)", event)
