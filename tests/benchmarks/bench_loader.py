"""Benchmark: the DAG loader's parse time for 1, 100 and 1,000 contracts, DAGs included.

Runs Airflow's own DagBag over the loader files with HANDOFF_DIR pointing at a temporary
folder of seed-based handoffs (contract + sidecar + environment each), as the DAG processor
does on every pass. Layouts:

- one loader file building every DAG, in one (forked) process;
- the shipped layout, dags/handoffs_1_of_2.py, handoffs_2_of_2.py and handoffs_errors.py,
  each file parsed in its own process (forked from a parent that imported Airflow and the
  plugin, as the processor does): all three at once, and two at a time in name order, as the
  DAG processor does with its default `parsing_processes = 2`.

Each is measured cold (empty handoff cache: a first parse, or every contract just edited)
and warm (the DAG processor's steady state: it re-parses every file every 30 s).
Prints figures (each file's own parse time and CPU time too); asserts nothing.
Target: 1,000 contracts under 5 s. The machine's load average is printed with them: on a
shared machine the wall times mean little without it, and the CPU times vary less.
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


def fill(loader: str) -> tuple[float, int, int, float]:
    """Fill a DagBag from one loader file; return seconds, DAGs, import errors, CPU seconds."""
    from airflow.dag_processing.dagbag import DagBag

    started, cpu = time.perf_counter(), time.process_time()
    bag = DagBag(dag_folder=loader)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, len(bag.dags), len(bag.import_errors), cpu


def measure(
    loaders: list[Path], processes: int
) -> tuple[float, int, int, list[tuple[float, float]]]:
    """Parse the loader files, `processes` at a time, each in a fresh forked process; return
    wall seconds, DAGs, errors and each file's own seconds and CPU seconds."""
    # Always in forked children, as the DAG processor parses each file: the parent stays as
    # it was after importing Airflow and the plugin, whatever the layouts measured before.
    # One file per child (maxtasksperchild=1), taken in name order as a process frees up.
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, maxtasksperchild=1) as pool:
        results = pool.map(fill, [str(p) for p in loaders], chunksize=1)
    seconds = time.perf_counter() - started
    return (
        seconds,
        sum(r[1] for r in results),
        sum(r[2] for r in results),
        [(r[0], r[3]) for r in results],
    )


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
    files = sorted(sharded.glob("*.py"))
    layouts = {
        "1 file, 1 process ": ([single / "handoffs.py"], 1),
        f"{len(files)} files, {len(files)} procs": (files, len(files)),
        # As the DAG processor parses them with its default `parsing_processes = 2`.
        f"{len(files)} files, 2 procs": (files, 2),
    }
    print(f"CPUs: {os.cpu_count()}; loader files shipped: {[p.name for p in LOADER_FILES]}")
    print(f"load average before: {_load_average()}")
    try:
        for count in (1, 100, 1000):
            folder = make_handoffs(work / f"n{count}", [f"BENCH-{n:04d}" for n in range(count)])
            os.environ["HANDOFF_DIR"] = str(folder)
            for name, (loaders, processes) in layouts.items():
                os.environ["HANDOFF_CACHE_DIR"] = str(work / f"cache-{count}-{name.strip()}")
                for state in ("cold", "warm"):
                    seconds, dags, errors, each = measure(loaders, processes)
                    files = ", ".join(
                        f"{p.name} {s:.2f} s ({c:.2f} CPU)"
                        for p, (s, c) in zip(loaders, each, strict=True)
                    )
                    print(
                        f"{count:>5} contracts, {name}, {state}: {seconds:6.2f} s "
                        f"({seconds * 1000 / count:6.2f} ms each), {dags} DAGs, "
                        f"{errors} import errors  (target: 1,000 under 5 s)  [{files}]",
                        flush=True,
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {_load_average()}")


def _load_average() -> str:
    """Return the 1, 5 and 15 minute load averages (other processes share the cores)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
