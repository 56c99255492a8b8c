"""The optional security scanner: an image the environment names, run beside the preview.

The deployment target runs it (`DeploymentTarget.scan_preview`; for Docker + HAProxy on the
service's network, reaching the release through the router's preview listener,
``HANDOFF_SCAN_URL``); it is told the release image (``HANDOFF_SCAN_IMAGE``). Exit 0 means
no finding; the last line it prints is its summary, and every line it prints is streamed to
the task log. Its verdict becomes a "Security Verification" record like the other security
findings.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from handoff.checks import security
from handoff.plan import CheckKind
from handoff.tasks.context import engine_of, handoff_from, run_settings
from handoff.tasks.evidence_records import record

log = logging.getLogger(__name__)


class ScannerGate(BaseOperator):
    """Run the environment's scanner image against the preview; record and judge its exit.

    Parameters (keyword-only): ``contract_path`` of the handoff (for its evidence and its
    target); ``image`` the scanner image; ``timeout`` how long it may run before it is killed
    (a failed scan).
    """

    def __init__(
        self, *, contract_path: str, image: str, timeout: timedelta, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.contract_path = contract_path
        self.image = image
        self.timeout = timeout

    def execute(self, context: Any) -> str:
        """Run the scanner; write its finding; fail the task on findings."""
        handoff = handoff_from(self.contract_path)
        release = run_settings().release
        scan = engine_of(handoff).scan_preview(
            self.image,
            {"HANDOFF_SCAN_IMAGE": release},
            self.timeout.total_seconds(),
            lambda line: log.info("scanner | %s", line),
        )
        finding = security.judge_scan(self.image, scan.exit_code, scan.last_line)
        record(handoff, [(CheckKind.SECURITY, [finding])], target="preview")
        if finding.failed:
            raise AirflowFailException(f"security scan failed: {finding.summary}")
        return scan.last_line
