"""A release that never gets ready is removed; the live colour keeps serving."""

from __future__ import annotations

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour, ReleaseNeverReady
from handoff.bluegreen.probe import get
from tests.integration.bluegreen.conftest import V1, V2, ConfigFactory

pytestmark = pytest.mark.integration


def test_never_ready_release_is_removed_and_live_untouched(
    make_config: ConfigFactory, docker_client: object
) -> None:
    engine = BlueGreenEngine(make_config(ready_deadline_s=3.0), client=docker_client)  # type: ignore[arg-type]
    engine.deploy(V1)
    engine.switch(V1)
    live_before = engine.status().live
    assert live_before is not None

    with pytest.raises(ReleaseNeverReady, match=r"never became ready .*deadline of 3s") as err:
        engine.deploy(V2, environment={"DEMO_MODE": "never_ready"})
    message = str(err.value)
    assert "handoff-demo:1.1.0" in message
    assert "HTTP 503 from green" in message  # the last answer says what the probe saw
    assert "demo: release handoff-demo:1.1.0 colour green mode never_ready" in message  # logs

    state = engine.status()
    assert [c.colour for c in state.colours] == [Colour.BLUE]
    assert state.live == live_before  # same container, same release, never restarted
    answer = get(engine.config.router_host, engine.config.live_port, "/version", 2.0)
    assert answer.status == 200 and answer.server == "blue"


def test_release_whose_process_exits_fails_fast(
    make_config: ConfigFactory, docker_client: object
) -> None:
    engine = BlueGreenEngine(make_config(ready_deadline_s=60.0), client=docker_client)  # type: ignore[arg-type]
    engine.deploy(V1)
    engine.switch(V1)
    # An unusable port makes the service exit at once: the engine must not wait 60 s.
    with pytest.raises(ReleaseNeverReady, match=r"container (exited|restarting|crashed)") as err:
        engine.deploy(V2, environment={"DEMO_PORT": "not-a-port"})
    assert "ValueError" in str(err.value)  # the traceback from the container's log
    assert [c.colour for c in engine.status().colours] == [Colour.BLUE]
