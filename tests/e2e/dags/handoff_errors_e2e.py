"""Test DAGs for the e2e suite: the import error of the broken handoffs beside this file.

Like dags/handoffs_errors.py for include/handoffs/: the DAGs come from handoff_gates_e2e.py,
which never carries an import error (Airflow 3.3 would mark its DAGs stale).
"""

from pathlib import Path

from handoff.render.loader import error_carrier_of

FOLDER = Path(__file__).parent / "handoffs"

if FOLDER.is_dir():
    globals().update(error_carrier_of(FOLDER))
