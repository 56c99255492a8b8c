"""The Airflow plugin of the handoff project: registers the notice timetable.

The `handoff` package itself is kept out of the plugin manager's file-by-file scan by
plugins/.airflowignore; this is the one module the plugin manager imports.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from handoff.timetable import NoticeTimetable


class HandoffPlugin(AirflowPlugin):
    """Registers what the scheduler and UI need to know about handoff DAGs."""

    name = "handoff"
    timetables = [NoticeTimetable]  # noqa: RUF012 - the plugin manager reads a class attribute
