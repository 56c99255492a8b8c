"""One Airflow test environment per pytest process, set before anything imports Airflow.

Airflow reads its configuration once per process, so every suite shares this one: a fresh
AIRFLOW_HOME with a DAGs folder that holds the project's loader files (dags/handoffs_*.py) and the
test-only DAG files, the project's plugins folder, no examples, unit-test mode. Tests choose
which contracts the loader reads by setting HANDOFF_DIR before they build a DagBag.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOADER_FILES = tuple(sorted((ROOT / "dags").glob("handoffs*.py")))
TEST_DAG_FOLDERS = (ROOT / "tests" / "e2e" / "dags", ROOT / "tests" / "integration" / "dags")


def configure_airflow() -> Path:
    """Create the environment once and return its DAGs folder."""
    existing = os.environ.get("HANDOFF_TEST_DAGS_FOLDER")
    if existing:
        return Path(existing)
    if "airflow" in sys.modules:
        raise RuntimeError("configure the Airflow test environment before importing airflow")
    home = Path(tempfile.mkdtemp(prefix="handoff-airflow-"))
    dags = home / "dags"
    dags.mkdir()
    for loader in LOADER_FILES:
        (dags / loader.name).symlink_to(loader)
    for folder in TEST_DAG_FOLDERS:
        for dag_file in folder.glob("*.py"):
            if dag_file.name != "__init__.py":
                (dags / dag_file.name).symlink_to(dag_file)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "HANDOFF_TEST_DAGS_FOLDER": str(dags),
        }
    )
    return dags


def loader_dagbag() -> Any:
    """Return Airflow's DagBag filled from every loader file, as the DAG processor fills it."""
    from airflow.dag_processing.dagbag import DagBag

    folder = configure_airflow()
    first, *others = LOADER_FILES
    bag = DagBag(dag_folder=str(folder / first.name))
    for loader in others:
        bag.collect_dags(dag_folder=str(folder / loader.name))
    return bag
