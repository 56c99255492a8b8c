"""The tasks' unit tests: a real handoff on disk, a `FakeTarget` behind the engine factory.

Only the factory's entry for the environment's target kind is replaced: the handoff loads
from its files, the tasks resolve their target through `handoff.tasks.context.engine_of` as
in a run, and Airflow's own current-context mechanism carries a `FakeTI`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.runtime import engine_factory
from handoff.runtime.settings import Answers, RunSettings
from handoff.target import TargetKind
from tests.support.fake_target import FakeTarget, FakeTI, running_task
from tests.support.handoffs import make_handoffs

HANDOFF_ID = "PROD-DEPLOYMENT-001"
RELEASE = "handoff-demo:1.1.0"


@pytest.fixture
def contract(tmp_path: Path) -> str:
    """Return the path of a deployable handoff whose evidence lands under tmp_path."""
    handoffs = make_handoffs(
        tmp_path,
        [HANDOFF_ID],
        environment_edits={"report_dir: reports": f"report_dir: {tmp_path}/reports"},
    )
    return str(handoffs / f"{HANDOFF_ID}.md")


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> FakeTarget:
    """Return the fake every task of the test gets from the engine factory."""
    fake = FakeTarget()
    kind = TargetKind.DOCKER_HAPROXY
    wired = replace(engine_factory.wiring(kind), connect=lambda *_: fake)
    monkeypatch.setitem(engine_factory._KINDS, kind, wired)
    return fake


def settings_xcom(release: str = RELEASE) -> dict[str, Any]:
    """Return what preflight pushes: the run's settings (no snapshot: the live files count).

    A rehearsal's time scale shrinks Slack's retries: there is no Slack connection here.
    """
    now = datetime.now(UTC)
    settings = RunSettings(
        now, release, 3600.0, "", Answers(), now + timedelta(days=1), timedelta(0)
    )
    return {"settings": settings.to_xcom()}


@pytest.fixture
def ti() -> Iterator[FakeTI]:
    """Run the test inside a task of a run whose preflight passed."""
    with running_task(FakeTI(xcoms={"preflight": settings_xcom()})) as fake:
        yield fake
