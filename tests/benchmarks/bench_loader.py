"""Benchmark: the DAG loader's parse time for 1, 100 and 1,000 contracts, DAGs included.

Runs Airflow's own DagBag over the loader files with HANDOFF_DIR pointing at a temporary
folder of seed-based handoffs (contract + sidecar + environment each), as the DAG processor
does on every pass. Two layouts:

- one loader file building every DAG, in one (forked) process;
- the shipped layout, dags/handoffs_1_of_2.py and handoffs_2_of_2.py, each file parsed in its
  own process at the same time, as the DAG processor does with `parsing_processes = 2`
  (processes forked from a parent that imported Airflow and the plugin, as the processor does).

Each is measured cold (empty handoff cache: a first parse, or every contract just edited)
and warm (the DAG processor's steady state: it re-parses every file every 30 s).
Prints figures; asserts nothing. Target: 1,000 contracts under 5 s.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from tests.support.airflow_env import LOADER_FILES, configure_airflow  # noqa: E402
from tests.support.handoffs import make_handoffs  # noqa: E402


def fill(loader: str) -> tuple[float, int, int]:
    """Fill a DagBag from one loader file; return seconds, DAGs and import errors."""
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=loader)
    return time.perf_counter() - started, len(bag.dags), len(bag.import_errors)


def measure(loaders: list[Path]) -> tuple[float, int, int]:
    """Parse the loader files at once, one process each; return wall seconds, DAGs, errors."""
    # Always in forked children, as the DAG processor parses each file: the parent stays as
    # it was after importing Airflow and the plugin, whatever the layouts measured before.
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(len(loaders)) as pool:
        results = pool.map(fill, [str(p) for p in loaders])
    seconds = time.perf_counter() - started
    return seconds, sum(r[1] for r in results), sum(r[2] for r in results)


def main() -> None:
    # Report the figure even on a slow machine instead of Airflow's 30 s per-file cut-off.
    os.environ["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = "600"
    configure_airflow()
    # Pre-imported in the parent, as the DAG processor has them before it forks a parser.
    import airflow.dag_processing.dagbag  # noqa: F401

    import handoff.render.loader  # noqa: F401

    work = Path(tempfile.mkdtemp(prefix="bench-loader-"))
    single = work / "single"
    sharded = work / "sharded"
    for folder in (single, sharded):
        folder.mkdir()
    shutil.copy(LOADER_FILES[0], single / "handoffs.py")  # any other name builds every DAG
    for loader in LOADER_FILES:
        shutil.copy(loader, sharded / loader.name)
    layouts = {
        "1 file, 1 process ": [single / "handoffs.py"],
        f"{len(LOADER_FILES)} files, {len(LOADER_FILES)} procs": sorted(sharded.glob("*.py")),
    }
    print(f"CPUs: {os.cpu_count()}; loader files shipped: {[p.name for p in LOADER_FILES]}")
    try:
        for count in (1, 100, 1000):
            folder = make_handoffs(work / f"n{count}", [f"BENCH-{n:04d}" for n in range(count)])
            os.environ["HANDOFF_DIR"] = str(folder)
            for name, loaders in layouts.items():
                os.environ["HANDOFF_CACHE_DIR"] = str(work / f"cache-{count}-{len(loaders)}")
                for state in ("cold", "warm"):
                    seconds, dags, errors = measure(loaders)
                    print(
                        f"{count:>5} contracts, {name}, {state}: {seconds:6.2f} s "
                        f"({seconds * 1000 / count:6.2f} ms each), {dags} DAGs, "
                        f"{errors} import errors  (target: 1,000 under 5 s)",
                        flush=True,
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
