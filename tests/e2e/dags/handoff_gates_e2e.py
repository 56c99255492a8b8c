"""Test DAGs for the e2e suite: the handoffs written next to this file (airflow dag loader).

The e2e harness writes a handoff folder beside the copied DAG files before it starts
Airflow; this file loads it as the dags/handoffs_*_of_*.py loaders load include/handoffs/.
Where no such folder exists (the in-process test DAGs folder), it defines nothing.
"""

from pathlib import Path

from airflow.sdk import get_parsing_context

from handoff.render.loader import load_dags

FOLDER = Path(__file__).parent / "handoffs"

if FOLDER.is_dir():
    # The broken handoffs' import error comes from handoff_errors_e2e.py (see its docstring).
    globals().update(load_dags(FOLDER, only_dag_id=get_parsing_context().dag_id, carrier=False))
