"""The extra link from every task of a handoff DAG to its run's report on the Handoffs page.

A global link registered by the plugin: the API server computes it from the task instance's
key when the UI asks, so nothing about it is stored in the serialized DAG or in XCom, and it
also works for tasks that never ran (an upstream-failed step links to the incident report).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from handoff.runtime.airflow_urls import airflow_base_url

APP_PREFIX = "/handoffs"


def report_link(base_url: str, dag_id: str, run_id: str) -> str:
    """Return the URL of a run's HTML report."""
    return (
        f"{base_url.rstrip('/')}{APP_PREFIX}/reports/{quote(dag_id)}/"
        f"{quote(run_id, safe='')}/report.html"
    )


class HandoffReportLink(BaseOperatorLink):
    """'Deployment report' on the tasks of handoff DAGs (empty, so disabled, elsewhere)."""

    name = "Deployment report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """Return the report of the task's run, for DAGs rendered from a handoff."""
        if not str(ti_key.dag_id).startswith("handoff_"):
            return ""
        return report_link(airflow_base_url(), ti_key.dag_id, ti_key.run_id)
