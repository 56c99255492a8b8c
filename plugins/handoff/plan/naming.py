"""Names of the Airflow objects a handoff becomes."""

from __future__ import annotations

import re

_NOT_ID = re.compile(r"[^a-z0-9]+")


def dag_id_for(handoff_id: str) -> str:
    """Return the DAG id of a handoff: 'PROD-DEPLOYMENT-001' -> 'handoff_prod_deployment_001'."""
    return "handoff_" + _NOT_ID.sub("_", handoff_id.lower()).strip("_")
