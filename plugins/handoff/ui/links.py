"""The extra link from every task of a handoff DAG to its run's report on the Handoffs page.

A global link registered by the plugin: the API server computes it from the task instance's
key when the UI asks, so nothing about it is stored in the serialized DAG or in XCom, and it
also works for tasks that never ran (an upstream-failed step links to the incident report).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

APP_PREFIX = "/handoffs"
# Where Airflow's UI is when `[api] base_url` is unset (as the Slack messages assume too).
DEFAULT_BASE_URL = "http://localhost:8080"


def airflow_base_url() -> str:
    """Return the Airflow UI's base URL from `[api] base_url`, without a trailing slash."""
    from airflow.configuration import conf

    return str(conf.get("api", "base_url", fallback="") or DEFAULT_BASE_URL).rstrip("/")


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
