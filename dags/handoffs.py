"""Airflow DAG loader: one DAG per accepted HANDOFF/V1 contract in include/handoffs/.

A broken contract shows up as one import error of this file naming the contract's file and
line; the other handoffs keep their DAGs. Set HANDOFF_DIR to load contracts from elsewhere.
"""

import os
from pathlib import Path

from airflow.sdk import get_parsing_context

from handoff.render.loader import load_dags

HANDOFF_DIR = Path(
    os.environ.get("HANDOFF_DIR") or Path(__file__).resolve().parent.parent / "include" / "handoffs"
)

globals().update(load_dags(HANDOFF_DIR, only_dag_id=get_parsing_context().dag_id))
