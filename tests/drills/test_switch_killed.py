"""Drill: the process running a switch is killed (SIGKILL) mid-switch; the retry converges.

An Airflow worker runs `switch.move_live_traffic` as a task process that calls
`BlueGreenEngine.switch(release)`; when that process dies, Airflow's retry runs the same call
in a new process. The drill does exactly that without the scheduler around it: a separate
Python process calls the engine's switch and is killed with SIGKILL at three points (as the
router step starts, while its `docker exec` is in flight, during the verification after it),
then the same call runs again, all under keep-alive load with reads and writes. Killing a
process of a real Airflow worker would add nothing the engine sees: the engine holds no
state in memory, so a retry differs from this re-run only in who starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.conftest import DrillRecorder, load_losses
from tests.support.demo import ROOT, V2

pytestmark = pytest.mark.drill(name="worker killed mid-switch", timeout_s=240)

# The switching process prints each phase as it reaches it, so the drill can time the kill.
SWITCHER = textwrap.dedent(
    """
    import sys
    from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
    from handoff.bluegreen.router import Router

    service, live, preview, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    config = BlueGreenConfig(service=service, live_port=live, preview_port=preview,
                             volumes=(VolumeMount(service + "-data", "/data"),),
                             ready_deadline_s=30.0)
    converge = Router.converge
    def announced(self, *args, **kwargs):
        print("router-step", flush=True)
        result = converge(self, *args, **kwargs)
        print("verify", flush=True)
        return result
    Router.converge = announced
    engine = BlueGreenEngine(config)
    print("switching", flush=True)
    engine.switch(release)
    print("done", flush=True)
    """
)

# (phase line to wait for, delay after it, what the kill interrupts)
KILL_POINTS = [
    ("router-step", 0.0, "as the router step starts (before its docker exec)"),
    ("router-step", 0.08, "while the router step's docker exec is in flight"),
    ("verify", 0.0, "after the router step, during the verification"),
]


def kill_switch_at(engine: BlueGreenEngine, phase: str, delay_s: float) -> str:
    """Start a switching process, SIGKILL it at the phase; return what it had printed."""
    cfg = engine.config
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    args = [cfg.service, str(cfg.live_port), str(cfg.preview_port), V2]
    proc = subprocess.Popen(
        [sys.executable, "-c", SWITCHER, *args], env=env, stdout=subprocess.PIPE, text=True
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line.strip())
            if seen[-1] == phase:
                time.sleep(delay_s)
                break
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup, no lock release: a real crash
        proc.wait(10)
    assert phase in seen, f"the switcher never reached {phase}: {seen}"
    return " > ".join(seen)


def test_a_killed_switch_converges_when_run_again(
    live_blue_then_green_idle: BlueGreenEngine, drill: DrillRecorder
) -> None:
    engine = live_blue_then_green_idle
    cfg = engine.config
    for phase, delay_s, what in KILL_POINTS:
        spec = LoadSpec(cfg.router_host, cfg.live_port, connections=12, duration_s=60.0)
        with LoadGenerator(spec) as load:
            time.sleep(0.5)
            printed = kill_switch_at(engine, phase, delay_s)
            after_kill = engine.status().router
            result = engine.switch(V2)  # the retry: the same call, in a new process's place
            time.sleep(0.5)
        assert load.report is not None
        requests, failed, acknowledged, lost = load_losses(load.report, engine)
        state = engine.status().router
        drill.record(
            injected=f"SIGKILL of the switching process {what} (it printed: {printed})",
            observed=(
                f"after the kill live={_name(after_kill.live)}, "
                f"file={_name(after_kill.persisted_live)}; the re-run ({result.outcome.value}) "
                f"left live={_name(state.live)} in sync="
                f"{state.in_sync} in {result.seconds:.2f} s; {requests} requests, "
                f"{acknowledged} acknowledged writes"
            ),
            requests_failed=failed,
            data_lost=lost,
        )
        assert state.live is Colour.GREEN and state.in_sync
        assert failed == 0, load.report.describe_failures()
        assert lost == 0
        engine.rollback()  # back to blue live, green warm: the next kill point starts the same


def _name(colour: Colour | None) -> str:
    return colour.value if colour else "none"
