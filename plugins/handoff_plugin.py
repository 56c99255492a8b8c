"""The Airflow plugin of the handoff project: timetable, Handoffs page and report link.

The `handoff` package itself is kept out of the plugin manager's file-by-file scan by
plugins/.airflowignore; this is the one module the plugin manager imports.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from handoff.timetable import NoticeTimetable
from handoff.ui.app import app as handoffs_app
from handoff.ui.links import APP_PREFIX, HandoffReportLink


class HandoffPlugin(AirflowPlugin):
    """Registers what the scheduler and UI need to know about handoff DAGs."""

    # The plugin manager reads class attributes.
    name = "handoff"
    timetables = [NoticeTimetable]  # noqa: RUF012
    fastapi_apps = [{"app": handoffs_app, "url_prefix": APP_PREFIX, "name": "Handoffs"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Handoffs",
            "href": f"{APP_PREFIX}/",
            "destination": "nav",
            "url_route": "handoffs",
        }
    ]
    global_operator_extra_links = [HandoffReportLink()]  # noqa: RUF012
