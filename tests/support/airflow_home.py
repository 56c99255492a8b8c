"""Give the test process a private Airflow home before anything imports airflow.

Airflow reads its configuration once, at first import, and would otherwise use ~/airflow
(or a developer's AIRFLOW_HOME), whose database `resetdb()` wipes. Every conftest that leads
to an Airflow import calls `use_private_airflow_home()` at import time: the first call makes
a temporary home, later calls keep it. Before resetting the database, tests check
`database_is_disposable()`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_MARK = "HANDOFF_TEST_AIRFLOW_HOME"


def use_private_airflow_home() -> Path:
    """Point AIRFLOW_HOME and the test settings at a temporary home; return the home."""
    if os.environ.get(_MARK):
        return Path(os.environ[_MARK])
    if "airflow" in sys.modules:
        # Someone configured Airflow first; keep their home (the reset guard still applies).
        home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
        os.environ[_MARK] = home
        return Path(home)
    home = tempfile.mkdtemp(prefix="handoff-airflow-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ.update(
        {
            _MARK: home,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(home) / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        }
    )
    return Path(home)


def database_is_disposable() -> bool:
    """Tell whether Airflow's database is a SQLite file under the temporary directory."""
    from airflow import settings

    conn = str(settings.SQL_ALCHEMY_CONN or "")
    prefix = "sqlite:///"
    if not conn.startswith(prefix):
        return False
    path = Path(conn.removeprefix(prefix).partition("?")[0]).resolve()
    return path.is_relative_to(Path(tempfile.gettempdir()).resolve())
