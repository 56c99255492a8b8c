"""Drill: the router's configuration write is interrupted; the old configuration stays in effect.

A switch persists the new routing inside the router (write `haproxy.cfg.new`, `haproxy -c`,
rename over `haproxy.cfg`) before it touches the runtime. The drill runs those same steps in
the router and kills the writing shell (``kill -9 $$``) at two points: halfway through writing
the new file, and after validation but before the rename. Under keep-alive load it checks that
the file in effect is byte for byte the old one, that the router still routes and would
restart to the old colour, and that the next switch goes through despite the leftover.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.bluegreen.haproxy_cfg import CONFIG_PATH, render
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.conftest import DrillRecorder, load_losses
from tests.support.demo import V2

pytestmark = pytest.mark.drill(name="router config write interrupted", timeout_s=180)

NEW = f"{CONFIG_PATH}.new"
# The router's own persist steps (see router._CONVERGE), with the writer killed part way.
KILLED_MID_WRITE = f"""\
printf '%s' "$HANDOFF_CFG" | head -c "$HALF" >"{NEW}"
kill -9 $$
mv -f "{NEW}" "{CONFIG_PATH}"
"""
KILLED_BEFORE_RENAME = f"""\
printf '%s' "$HANDOFF_CFG" >"{NEW}"
haproxy -c -f "{NEW}" >/dev/null 2>&1 || exit 3
kill -9 $$
mv -f "{NEW}" "{CONFIG_PATH}"
"""


def in_router(engine: BlueGreenEngine, script: str, env: dict[str, str]) -> tuple[int, str]:
    container = engine.router.container()
    assert container is not None
    code, output = container.exec_run(["sh", "-c", script], environment=env)
    return int(code), output.decode("utf-8", "replace")


def config_sha(engine: BlueGreenEngine) -> str:
    _, text = in_router(engine, f'cat "{CONFIG_PATH}"', {})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@pytest.mark.parametrize(
    ("script", "what"),
    [
        (KILLED_MID_WRITE, "writer killed halfway through writing haproxy.cfg.new"),
        (KILLED_BEFORE_RENAME, "writer killed after haproxy -c, before the rename"),
    ],
)
def test_an_interrupted_config_write_leaves_the_old_config_in_effect(
    live_blue_then_green_idle: BlueGreenEngine, drill: DrillRecorder, script: str, what: str
) -> None:
    engine = live_blue_then_green_idle
    cfg = engine.config
    wanted = render(cfg, Colour.GREEN, Colour.BLUE)  # the switch that gets interrupted
    before = config_sha(engine)
    spec = LoadSpec(cfg.router_host, cfg.live_port, connections=12, duration_s=60.0)
    with LoadGenerator(spec) as load:
        time.sleep(0.5)
        code, _ = in_router(
            engine, script, {"HANDOFF_CFG": wanted, "HALF": str(len(wanted.encode()) // 2)}
        )
        time.sleep(0.5)
        after_sha = config_sha(engine)
        state = engine.status().router
        _, leftover_bytes = in_router(engine, f'stat -c %s "{NEW}" 2>&1', {})
        _, check = in_router(engine, f'haproxy -c -f "{CONFIG_PATH}" 2>&1', {})
        switched = engine.switch(V2)  # the next switch must not trip over the leftover file
        time.sleep(0.5)
    assert load.report is not None
    requests, failed, acknowledged, lost = load_losses(load.report, engine)
    final = engine.status().router
    drill.record(
        injected=f"{what} (exit {code}; haproxy.cfg.new left behind: {leftover_bytes.strip()} "
        f"of {len(wanted.encode())} bytes)",
        observed=(
            f"haproxy.cfg unchanged ({before} before, {after_sha} after), still valid; live "
            f"{state.live.value if state.live else 'none'} at runtime and in the file; next "
            f"switch to green {switched.outcome.value} in {switched.seconds:.2f} s, in sync "
            f"{final.in_sync}; {requests} requests, {acknowledged} acknowledged writes"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert code == 137  # the shell died by SIGKILL
    assert after_sha == before
    assert (state.live, state.persisted_live) == (Colour.BLUE, Colour.BLUE)
    assert "Configuration file is valid" in check
    assert final.live is Colour.GREEN and final.in_sync
    assert failed == 0, load.report.describe_failures()
    assert lost == 0
