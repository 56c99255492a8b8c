"""Benchmark: the DAG loader's parse time for 1, 100 and 1,000 contracts, DAGs included.

Runs Airflow's own DagBag over dags/handoffs.py with HANDOFF_DIR pointing at a temporary
folder of seed-based handoffs (contract + sidecar + environment each), as the DAG processor
does on every pass. Prints figures; asserts nothing. Target: 1,000 contracts under 5 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from tests.support.airflow_env import configure_airflow  # noqa: E402
from tests.support.handoffs import make_handoffs  # noqa: E402


def measure(count: int, dags_folder: Path) -> tuple[float, int, int]:
    """Return seconds to fill a DagBag from `count` handoffs, DAGs and import errors."""
    from airflow.dag_processing.dagbag import DagBag

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_handoffs(Path(tmp), [f"BENCH-{n:04d}" for n in range(count)])
        os.environ["HANDOFF_DIR"] = str(folder)
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(dags_folder / "handoffs.py"))
        seconds = time.perf_counter() - started
    return seconds, len(bag.dags), len(bag.import_errors)


def main() -> None:
    dags_folder = configure_airflow()
    measure(1, dags_folder)  # warm imports, as a long-lived DAG processor is
    for count in (1, 100, 1000):
        seconds, dags, errors = measure(count, dags_folder)
        print(
            f"{count:>5} contracts: {seconds:6.2f} s  ({seconds * 1000 / count:6.2f} ms each), "
            f"{dags} DAGs, {errors} import errors  (target: 1,000 under 5 s)"
        )


if __name__ == "__main__":
    main()
