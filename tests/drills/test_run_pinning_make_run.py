"""Drill: `make run | cat`, stopped by SIGHUP and by Ctrl-C, leaves nothing it started.

The whole pipeline runs in its own session, as a terminal runs it: a hang-up or Ctrl-C
reaches every process of the foreground group, so the reader of run.py's stdout dies with it
and run.py's clean-up writes into a closed pipe. Every process run.py started (Airflow
standalone's scheduler, triggerer, api-server, dag-processor, workers; the Slack receiver)
must be gone afterwards, checked by pid, and every container it created, checked by its
origin label (handoff.bluegreen.origin).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from handoff.bluegreen.origin import LABEL_ORIGIN
from tests.drills.conftest import DrillRecorder
from tests.support.demo import ensure_demo_images, free_port

pytestmark = pytest.mark.drill(name="make run under a pipe, stopped", timeout_s=900)

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "include" / "demo" / "scripts" / "run.py"


def alive(pids: set[int]) -> list[int]:
    left = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                left.append(pid)
    return left


def containers_of(run_pid: int) -> list[str]:
    import docker

    client = docker.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": LABEL_ORIGIN})
        return [c.name for c in found if c.labels[LABEL_ORIGIN].startswith(f"make-run:{run_pid}:")]
    finally:
        client.close()


def run_and_stop(
    tmp_path: Path, stop_signal: signal.Signals
) -> tuple[int, list[int], list[str], float]:
    """Start `run.py | cat`, wait for its banner, send the signal to the group; return leftovers."""
    out = tmp_path / f"run-{stop_signal.name}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "HANDOFF_UI_PORT": str(free_port()),
        "HANDOFF_SLACK_PORT": str(free_port()),
        "PYTHONPATH": str(ROOT / "plugins"),
    }
    env.pop("HANDOFF_CONTAINER_ORIGIN", None)
    pipeline = subprocess.Popen(
        ["sh", "-c", f'"{sys.executable}" "{RUN}" | cat > "{out}"'],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    started: set[int] = set()
    run_pid = 0
    try:
        end = time.monotonic() + 420
        while "Airflow UI" not in (out.read_text() if out.exists() else ""):
            assert pipeline.poll() is None, out.read_text() if out.exists() else "no output"
            assert time.monotonic() < end, out.read_text() if out.exists() else "no output"
            time.sleep(1)
        time.sleep(5)  # let standalone start its workers
        shell = psutil.Process(pipeline.pid)
        for child in shell.children(recursive=True):
            started.add(child.pid)
            try:
                command = " ".join(child.cmdline())
            except psutil.Error:  # a short-lived child (a zombie by now) is not run.py
                continue
            if RUN.name in command:
                run_pid = run_pid or child.pid
        assert run_pid, "run.py not found under the pipeline"
        stop_at = time.monotonic()
        os.killpg(pipeline.pid, stop_signal)
        pipeline.wait(timeout=120)
        deadline = time.monotonic() + 60
        while alive(started) and time.monotonic() < deadline:
            time.sleep(1)
        took = time.monotonic() - stop_at
        return run_pid, alive(started), containers_of(run_pid), took
    finally:
        for pid in alive(started):  # never leave them, even when the test fails
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()


def test_make_run_under_a_pipe_stops_everything_on_sighup_and_ctrl_c(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    ensure_demo_images()
    results = {s: run_and_stop(tmp_path, s) for s in (signal.SIGHUP, signal.SIGINT)}
    for stop_signal, (run_pid, pids_left, containers_left, took) in results.items():
        drill.record(
            drill="make run under a pipe, stopped",
            injected=f"`run.py | cat` in its own session, {stop_signal.name} to the whole group "
            "(the pipe's reader dies with it)",
            observed=f"run.py (pid {run_pid}) stopped everything in {took:.0f} s: "
            f"{len(pids_left)} of its processes left {pids_left}, {len(containers_left)} "
            f"containers with its origin label left {containers_left}",
            requests_failed="n/a",
            data_lost="n/a",
        )
    for run_pid, pids_left, containers_left, _ in results.values():
        assert pids_left == [], (run_pid, pids_left)
        assert containers_left == [], (run_pid, containers_left)
