"""The optional security scanner: a container the environment names, run by DockerOperator.

The scanner joins the service's network and reaches the release through the router's
preview listener (``HANDOFF_SCAN_URL``); it is told the release image
(``HANDOFF_SCAN_IMAGE``). Exit 0 means no finding; the last line it prints is its summary.
Its verdict becomes a "Security Verification" record like the other security findings.
"""

from __future__ import annotations

import re
from typing import Any

from airflow.providers.docker.exceptions import DockerContainerFailedException
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk.exceptions import AirflowFailException

from handoff.bluegreen import BlueGreenError, dockerapi
from handoff.catalog import Handoff
from handoff.checks import security
from handoff.plan import CheckKind
from handoff.tasks.context import handoff_from
from handoff.tasks.gate_records import record

_EXIT = re.compile(r"StatusCode'?\"?:\s*(\d+)")


def _text(line: str | bytes) -> str:
    return line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)


class ScannerGate(DockerOperator):
    """Run the environment's scanner image against the preview; record and judge its exit.

    Parameters: ``contract_path`` of the handoff (for its evidence); the rest is
    DockerOperator's (image, docker_url, network_mode, environment...).
    """

    def __init__(self, *, contract_path: str, **kwargs: Any) -> None:
        super().__init__(auto_remove="force", mount_tmp_dir=False, **kwargs)
        self.contract_path = contract_path

    def execute(self, context: Any) -> Any:
        """Run the scanner; write its finding; fail the task on findings."""
        handoff = handoff_from(self.contract_path)
        missing = self._image_missing()
        if missing:
            return self._decide(handoff, -1, missing)
        try:
            output = super().execute(context)
        except DockerContainerFailedException as e:
            lines = [_text(line).strip() for line in (e.logs or []) if _text(line).strip()]
            found = _EXIT.search(str(e))
            code = int(found.group(1)) if found else 1
            return self._decide(handoff, code, lines[-1] if lines else "")
        return self._decide(handoff, 0, str(output).strip() if output else "")

    def _decide(self, handoff: Handoff, exit_code: int, last_line: str) -> str:
        """Record the scanner's finding; fail the task unless it passed."""
        finding = security.judge_scan(str(self.image), exit_code, last_line)
        record(handoff, [(CheckKind.SECURITY, [finding])], target="preview")
        if finding.failed:
            raise AirflowFailException(f"security scan failed: {finding.summary}")
        return last_line

    def _image_missing(self) -> str:
        """Return why the scanner image cannot run here ('' when it is present).

        No registry may be reachable: a missing image must fail with its name, not with a
        pull error.
        """
        try:
            client = dockerapi.connect(str(self.docker_url))
        except BlueGreenError as e:
            return str(e)
        try:
            dockerapi.require_image(client, str(self.image), "scanner")
        except BlueGreenError as e:
            return str(e)
        finally:
            client.close()
        return ""
