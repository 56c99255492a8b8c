"""Drill: two handoffs deploy the same service at once; their operations never interleave.

Two processes, each standing for one handoff's deployment tasks, start together and call
`deploy(release)` then `switch(release)` on one service through engines built like the task
code builds them (`lock_wait_s` 30 s: a second deployer waits for the lock, bounded, rather
than failing). Each logs when it takes and releases the service's lock; the drill checks that
no two lock holdings overlap, that a switch never makes another handoff's release live, and
that traffic on the live listener never failed. Two runs of ONE handoff are kept apart by
Airflow itself (`max_active_runs=1`); that half is drilled under a real scheduler in
test_components_restart.py. Whole handoffs of one service are kept apart by the service's
lease (`handoff.bluegreen.lease`), drilled under real Airflow in test_two_handoffs_airflow.py;
the forced order below shows what the engine does without it.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour, InvalidState
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.conftest import DrillRecorder, load_losses
from tests.support.demo import ROOT, V1, V2

pytestmark = pytest.mark.drill(name="two handoffs for one service at once", timeout_s=240)

DEPLOYER = textwrap.dedent(
    """
    import logging, os, sys, time
    from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, BlueGreenError, VolumeMount
    name, service, live, preview, release, go = sys.argv[1:7]
    logging.basicConfig(level=logging.INFO, format=f"%(created).3f {name} %(message)s")
    config = BlueGreenConfig(service=service, live_port=int(live), preview_port=int(preview),
                             volumes=(VolumeMount(service + "-data", "/data"),),
                             ready_deadline_s=30.0,
                             environment=(("HANDOFF_DRILL_HANDOFF", name),))
    engine = BlueGreenEngine(config, lock_wait_s=30.0)
    while not os.path.exists(go):
        time.sleep(0.01)
    try:
        engine.deploy(release)
        result = engine.switch(release)
        print(f"RESULT {name} switched to {result.to_colour.value} running {result.release}",
              flush=True)
    except BlueGreenError as e:
        print(f"RESULT {name} refused: {type(e).__name__}: {e}", flush=True)
    """
)

LOCK_LINE = re.compile(r"^(\d+\.\d+) (\S+) lock \S+ (taken|released) by")


def test_two_handoffs_for_one_service_take_turns(
    engine: BlueGreenEngine, drill: DrillRecorder, tmp_path: Path
) -> None:
    engine.deploy(V1)
    engine.switch(V1)
    cfg = engine.config
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    base = [cfg.service, str(cfg.live_port), str(cfg.preview_port)]
    spec = LoadSpec(cfg.router_host, cfg.live_port, connections=8, duration_s=120.0)
    with LoadGenerator(spec) as load:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", DEPLOYER, name, *base, release, str(go)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, release in (("handoff-A", V2), ("handoff-B", V1))
        ]
        time.sleep(2.0)  # both are connected and waiting at the start line
        go.touch()
        outputs = [p.communicate(timeout=150)[0] for p in procs]
        time.sleep(0.5)
    assert load.report is not None
    requests, failed, acknowledged, lost = load_losses(load.report, engine)

    lines = sorted(ln for out in outputs for ln in out.splitlines() if LOCK_LINE.match(ln))
    holdings: list[tuple[float, float, str]] = []
    taken: dict[str, float] = {}
    for line in lines:
        match = LOCK_LINE.match(line)
        assert match is not None
        at, who, what = float(match[1]), match[2], match[3]
        if what == "taken":
            taken[who] = at
        else:
            holdings.append((taken.pop(who), at, who))
    holdings.sort()
    overlaps = [(a, b) for a, b in itertools.pairwise(holdings) if b[0] < a[1]]
    results = [ln for out in outputs for ln in out.splitlines() if ln.startswith("RESULT")]
    order = " -> ".join(who.removeprefix("handoff-") for _, _, who in holdings)
    state = engine.status()
    live = state.live
    drill.record(
        injected="two deployer processes (handoff A: 1.1.0, handoff B: 1.0.0 with other "
        "settings) call deploy then switch on one service at the same instant",
        observed=(
            f"{len(holdings)} lock holdings in turn ({order}), {len(overlaps)} overlapping; "
            f"{'; '.join(r.removeprefix('RESULT ') for r in results)}; live ends on "
            f"{live.colour.value if live else 'none'} ({live.release if live else '-'}); "
            f"{requests} requests, {acknowledged} acknowledged writes"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert len(holdings) >= 3, outputs  # each deploy and each switch that ran held it
    assert not overlaps, overlaps
    assert len(results) == 2, outputs
    # Whatever the order, a switch only ever made live the release its own handoff deployed.
    for result in results:
        if "switched" in result:
            release = V2 if "handoff-A" in result else V1
            assert result.endswith(f"running {release}"), result
    assert live is not None and live.colour in (Colour.BLUE, Colour.GREEN)
    assert failed == 0, load.report.describe_failures()
    assert lost == 0


def test_a_switch_never_makes_another_handoffs_release_live(
    engine: BlueGreenEngine, drill: DrillRecorder
) -> None:
    engine.deploy(V1)
    engine.switch(V1)
    cfg = engine.config
    other = BlueGreenEngine(
        dataclasses.replace(cfg, environment=(("HANDOFF_DRILL_HANDOFF", "B"),)),
        client=engine.client,
    )
    spec = LoadSpec(cfg.router_host, cfg.live_port, connections=8, duration_s=120.0)
    with LoadGenerator(spec) as load:
        engine.deploy(V2)  # handoff A's deploy
        other.deploy(V1)  # handoff B's deploy lands between A's deploy and A's switch
        with pytest.raises(InvalidState) as refused:
            engine.switch(V2)  # handoff A's switch
        time.sleep(0.5)
    assert load.report is not None
    requests, failed, acknowledged, lost = load_losses(load.report, engine)
    live = engine.status().live
    drill.record(
        injected="the worst order forced: A deploys 1.1.0, B deploys 1.0.0 (other settings) "
        "into the same idle colour, then A switches",
        observed=(
            f"A's switch refused ({str(refused.value)[:90]}...); live stays "
            f"{live.colour.value if live else 'none'} ({live.release if live else '-'}); "
            f"{requests} requests, {acknowledged} acknowledged writes"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert "runs handoff-demo:1.0.0, not handoff-demo:1.1.0" in str(refused.value)
    assert live is not None and live.colour is Colour.BLUE and live.release == V1
    assert failed == 0 and lost == 0
