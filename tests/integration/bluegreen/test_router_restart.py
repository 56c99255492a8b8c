"""A restarted router keeps routing live traffic to the colour of the last switch."""

from __future__ import annotations

import time

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour, probe
from tests.integration.bluegreen.conftest import V2

pytestmark = pytest.mark.integration


def wait_for_answer(engine: BlueGreenEngine, deadline_s: float = 15.0) -> probe.Answer:
    """Return the first 2xx answer of the live listener after a restart."""
    cfg = engine.config
    end = time.monotonic() + deadline_s
    while True:
        answer = probe.get(cfg.router_host, cfg.live_port, "/version", 2.0)
        if 200 <= answer.status < 300 or time.monotonic() > end:
            return answer
        time.sleep(0.1)


def test_router_restart_after_switch_keeps_new_live_colour(
    live_blue_then_green_idle: BlueGreenEngine,
) -> None:
    engine = live_blue_then_green_idle
    engine.switch(V2)

    router = engine.router.container()
    assert router is not None
    router.restart(timeout=10)  # plain `docker restart`, as an operator or a reboot would

    answer = wait_for_answer(engine)
    assert answer.status == 200 and answer.server == "green", answer
    state = engine.status()
    assert state.router.live is Colour.GREEN
    assert state.router.persisted_live is Colour.GREEN
    assert state.router.preview is Colour.BLUE
