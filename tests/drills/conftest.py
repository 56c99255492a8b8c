"""Fault drills: each injects one fault into the real system and records what it observed.

Every drill is marked `drill`, runs under a time bound (marker ``drill(timeout_s=...)``; a
drill past its bound fails with `DrillTimeout`), and records one row per fault: what was
injected, what was observed, how many requests failed and how many acknowledged writes were
lost. The session prints the rows as a table at the end (and writes them as markdown to
``$HANDOFF_DRILL_TABLE`` when set), so `make drills` shows the whole picture in one place.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.bluegreen.loadgen import LoadReport, stored_keys

# The blue-green fixtures: a fresh service per test, torn down afterwards.
from tests.integration.bluegreen.conftest import (  # noqa: F401
    docker_client,
    engine,
    live_blue_then_green_idle,
    make_config,
)

# The rehearsal fixtures: the seed handoff on its own service, Slack at a local receiver.
from tests.integration.dags.test_rehearsal import demo_images, rehearsal, slack  # noqa: F401

pytestmark = pytest.mark.drill

DEFAULT_TIMEOUT_S = 300.0


class DrillTimeout(Exception):
    """A drill ran past its time bound."""


@dataclass(frozen=True)
class DrillRow:
    """One fault and its consequences."""

    drill: str
    injected: str
    observed: str
    requests_failed: str
    data_lost: str
    seconds: float


_ROWS: list[DrillRow] = []


class DrillRecorder:
    """Records the rows of one drill (a drill may inject several faults)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()

    def record(
        self,
        injected: str,
        observed: str,
        requests_failed: int | str,
        data_lost: int | str,
        drill: str | None = None,
    ) -> None:
        """Add a row and print it at once (so a drill cut short still shows what it saw)."""
        row = DrillRow(
            drill or self.name,
            injected,
            observed,
            str(requests_failed),
            str(data_lost),
            round(time.monotonic() - self.started, 1),
        )
        _ROWS.append(row)
        print(f"\nDRILL {row.drill}: injected: {injected}\n  observed: {observed}")
        print(f"  requests failed: {row.requests_failed}, data lost: {row.data_lost}")


def load_losses(report: LoadReport, service: BlueGreenEngine) -> tuple[int, int, int, int]:
    """Return (requests, failed, acknowledged writes, acknowledged writes not stored)."""
    acknowledged = set(report.acknowledged_writes)
    missing = acknowledged - stored_keys(service.config.router_host, service.config.live_port)
    return report.requests, len(report.failures), len(acknowledged), len(missing)


@pytest.fixture
def drill(request: pytest.FixtureRequest) -> Iterator[DrillRecorder]:
    """Bound the drill in time and hand it a recorder for its rows."""
    marker = request.node.get_closest_marker("drill")
    timeout_s = float((marker.kwargs.get("timeout_s") if marker else None) or DEFAULT_TIMEOUT_S)
    name = (marker.kwargs.get("name") if marker else None) or request.node.name

    def expire(signum: int, frame: FrameType | None) -> None:
        raise DrillTimeout(f"drill {name} ran past its bound of {timeout_s:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield DrillRecorder(name)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render_table(rows: list[DrillRow]) -> str:
    """Return the rows as a markdown table."""
    lines = [
        "| drill | injected | observed | requests failed | data lost | took |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r.drill, r.injected, r.observed, r.requests_failed, r.data_lost, f"{r.seconds} s"]
        cleaned = (c.replace("|", "/").replace("\n", " ") for c in cells)
        lines.append("| " + " | ".join(cleaned) + " |")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every drill row as one table after the run."""
    if not _ROWS:
        return
    terminalreporter.section("fault drills")
    table = render_table(_ROWS)
    terminalreporter.write_line(table)
    target = os.environ.get("HANDOFF_DRILL_TABLE")
    if target:
        Path(target).write_text(table + "\n")
