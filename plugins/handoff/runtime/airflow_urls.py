"""Where Airflow's UI is, for links in reports, messages and the Handoffs page."""

from __future__ import annotations

# Where Airflow's UI is when `[api] base_url` is unset (as the Slack messages assume too).
DEFAULT_BASE_URL = "http://localhost:8080"


def airflow_base_url() -> str:
    """Return the Airflow UI's base URL from `[api] base_url`, without a trailing slash."""
    from airflow.configuration import conf

    return str(conf.get("api", "base_url", fallback="") or DEFAULT_BASE_URL).rstrip("/")
