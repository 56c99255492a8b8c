"""An in-memory deployment target and a task-instance stand-in, for the tasks' unit tests.

`FakeTarget` implements `handoff.target.DeploymentTarget` with two colours in a dict, a live
pointer and a lease, converging like the real engine (a second switch to the same colour is
`ChangeOutcome.ALREADY_DONE`). It records every call and can be told to fail one operation.
`FakeTI` answers what the tasks ask of Airflow's task instance (XComs, run states, the first
reschedule); `running_task` makes it the current context the way Airflow's task runner does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from handoff.target import (
    Acquisition,
    ChangeOutcome,
    Colour,
    ColourPosture,
    ColourState,
    CommandResult,
    DeployResult,
    EndedCheck,
    EngineCapacity,
    InvalidState,
    LeaseHolder,
    LeaseOutcome,
    LineSink,
    ProbeSummary,
    RetireResult,
    RouterState,
    ScanResult,
    ScrapePoints,
    ServiceState,
    SwitchResult,
    ThirdPartyAnswer,
    ThirdPartyCall,
)

_PROBES = ProbeSummary("preview", "/health", 5, 5, 0.01)
_clock = itertools.count(1)


def posture(image_id: str = "sha256:" + "a" * 64, **changes: Any) -> ColourPosture:
    """Return a clean posture (one exposed port, nothing else); ``changes`` override fields."""
    clean = ColourPosture(image_id, frozenset({"8000/tcp"}), frozenset(), False, frozenset())
    return replace(clean, **changes)


@dataclass
class FakeTarget:
    """Two colours, a live pointer and a lease in memory; every call is recorded."""

    service: str = "shop"
    kind: str = "fake"
    colours: dict[Colour, ColourState] = field(default_factory=dict)
    live: Colour | None = None
    holder: LeaseHolder | None = None
    postures: dict[Colour, ColourPosture] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    command: CommandResult | Exception = field(
        default_factory=lambda: CommandResult((), "shop:1", "green", 0, 0.1, ("ok",))
    )
    scan: ScanResult = field(default_factory=lambda: ScanResult(0, "no findings"))
    scan_lines: tuple[str, ...] = ("scanning", "no findings")
    engine: EngineCapacity = field(
        default_factory=lambda: EngineCapacity(
            "27.0.0", 8 * 2**30, 4 * 2**30, 20 * 2**30, 512 * 2**20, 512 * 2**20, 100 * 2**20
        )
    )
    # Third-party URL -> (status, seconds); a URL not listed answers nothing (refused).
    third_parties: dict[str, tuple[int, float]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    failures: dict[str, Exception] = field(default_factory=dict)

    # -- test set-up -------------------------------------------------------------------

    def running(self, colour: Colour, release: str, live: bool = False) -> FakeTarget:
        """Give a colour a running instance of ``release`` (newest so far); return self."""
        self.colours[colour] = ColourState(
            colour, f"id-{colour.value}", f"{self.service}-{colour.value}", release,
            f"fp-{release}", float(next(_clock)), True, "running", None,
        )  # fmt: skip
        if live:
            self.live = colour
        return self

    def fail(self, op: str, error: Exception) -> None:
        """Make the next call of ``op`` raise ``error`` (once)."""
        self.failures[op] = error

    def _call(self, op: str, *args: Any) -> None:
        self.calls.append((op, args))
        error = self.failures.pop(op, None)
        if error is not None:
            raise error

    def ops(self) -> list[str]:
        """Return the names of the operations called, in order."""
        return [op for op, _ in self.calls]

    # -- the port ----------------------------------------------------------------------

    def status(self) -> ServiceState:
        self._call("status")
        router = RouterState(True, self.live, self._idle(), self.live, self._idle())
        return ServiceState(self.service, tuple(self.colours.values()), router)

    def _idle(self) -> Colour | None:
        return self.live.other if self.live else (Colour.BLUE if self.colours else None)

    def deploy(self, release: str) -> DeployResult:
        self._call("deploy", release)
        target = self.live.other if self.live else Colour.BLUE
        existing = self.colours.get(target)
        done = existing is not None and existing.release == release and existing.running
        if not done:
            self.running(target, release)
        state = self.colours[target]
        outcome = ChangeOutcome.ALREADY_DONE if done else ChangeOutcome.CHANGED
        return DeployResult(
            self.service, target, release, state.container_id, outcome, self.live, _PROBES, 0.1
        )

    def switch(self, expected_release: str | None = None) -> SwitchResult:
        self._call("switch", expected_release)
        newest = max(self.colours.values(), key=lambda c: c.deployed_at, default=None)
        if newest is None:
            raise InvalidState(f"service {self.service} has no colour to switch to")
        if expected_release is not None and newest.release != expected_release:
            raise InvalidState(f"the newest colour runs {newest.release}")
        return self._route_live_to(newest)

    def rollback(self) -> SwitchResult:
        self._call("rollback")
        if len(self.colours) < 2:
            raise InvalidState(f"service {self.service} has no previous colour to roll back to")
        return self._route_live_to(min(self.colours.values(), key=lambda c: c.deployed_at))

    def _route_live_to(self, target: ColourState) -> SwitchResult:
        before, self.live = self.live, target.colour
        outcome = ChangeOutcome.ALREADY_DONE if before is target.colour else ChangeOutcome.CHANGED
        return SwitchResult(
            self.service, before, target.colour, target.release, outcome, 0.01, _PROBES, 0.1
        )

    def abort(self) -> RetireResult:
        self._call("abort")
        return self._remove_idle(only_if_newest=True)

    def retire_old(self) -> RetireResult:
        self._call("retire_old")
        return self._remove_idle(only_if_newest=False)

    def _remove_idle(self, only_if_newest: bool) -> RetireResult:
        if self.live is None:
            raise InvalidState(f"the router of {self.service} routes live to nothing")
        idle = self.colours.get(self.live.other)
        newest = max(self.colours.values(), key=lambda c: c.deployed_at)
        if idle is None or (only_if_newest and newest is not idle):
            return RetireResult(self.service, None, None, self.live, ChangeOutcome.ALREADY_DONE, 0)
        del self.colours[idle.colour]
        return RetireResult(
            self.service, idle.colour, idle.release, self.live, ChangeOutcome.CHANGED, 0.1
        )

    def acquire_lease(self, owner: str, purpose: str, ended: EndedCheck) -> Acquisition:
        self._call("acquire_lease", owner, purpose)
        broken: tuple[tuple[LeaseHolder, str], ...] = ()
        if self.holder is not None and self.holder.owner != owner:
            why = ended(self.holder.owner)
            if why is None:
                return Acquisition(LeaseOutcome.HELD_BY_OTHER, self.holder)
            broken, self.holder = ((self.holder, why),), None
        if self.holder is not None:
            return Acquisition(LeaseOutcome.ALREADY_OURS, self.holder)
        self.holder = LeaseHolder(owner, datetime.now(UTC), purpose, f"lease-{next(_clock)}")
        return Acquisition(LeaseOutcome.TAKEN, self.holder, broken)

    def release_lease(self, owner: str, step: str) -> bool:
        self._call("release_lease", owner, step)
        if self.holder is None or self.holder.owner != owner:
            return False
        self.holder = None
        return True

    def posture(self, colour: Colour) -> ColourPosture | None:
        self._call("posture", colour)
        if colour not in self.colours:
            return None
        return self.postures.get(colour) or posture()

    def image_id(self, release: str) -> str | None:
        self._call("image_id", release)
        return self.tags.get(release)

    def run_beside(self, colour: Colour, argv: Sequence[str], timeout_s: float) -> CommandResult:
        self._call("run_beside", colour, tuple(argv), timeout_s)
        if isinstance(self.command, Exception):
            raise self.command
        return self.command

    def run_release(self, release: str, argv: Sequence[str], timeout_s: float) -> CommandResult:
        self._call("run_release", release, tuple(argv), timeout_s)
        if isinstance(self.command, Exception):
            raise self.command
        return self.command

    def scan_preview(
        self, image: str, environment: Mapping[str, str], timeout_s: float, on_line: LineSink
    ) -> ScanResult:
        self._call("scan_preview", image, dict(environment), timeout_s)
        for line in self.scan_lines:
            on_line(line)
        return self.scan

    def expose_metrics(self, network: str, health_path: str) -> ScrapePoints:
        self._call("expose_metrics", network, health_path)
        address = f"{self.service}-router:8404"
        return ScrapePoints(
            exporter=address,
            colour_metrics={c.value: (address, f"/colours/{c.value}/metrics") for c in Colour},
            health_urls={"live": f"http://{self.service}-router:8080{health_path}"},
        )

    def capacity(self) -> EngineCapacity:
        self._call("capacity")
        return self.engine

    def call_third_parties(
        self, release: str, calls: Sequence[ThirdPartyCall]
    ) -> tuple[str, list[ThirdPartyAnswer]]:
        self._call("call_third_parties", release, tuple(calls))
        answers = []
        for call in calls:
            status, seconds = self.third_parties.get(call.url, (0, 0.001))
            error = "" if status else "ConnectionRefusedError: [Errno 111] Connection refused"
            answers.append(ThirdPartyAnswer(call.name, call.url, status, seconds, error))
        return f"{self.service}-net", answers


@dataclass
class FakeTI:
    """What the tasks ask of Airflow's task instance, answered from dicts."""

    dag_id: str = "handoff_shop"
    run_id: str = "manual__1"
    task_id: str = "a_task"
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)
    run_states: dict[str, str] = field(default_factory=dict)
    task_states: dict[str, str] = field(default_factory=dict)
    first_reschedule: datetime | None = None
    pushed: dict[str, Any] = field(default_factory=dict)

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.xcoms.get(task_ids)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def get_dagrun_state(self, dag_id: str, run_id: str) -> str:
        return self.run_states.get(f"{dag_id}/{run_id}", "running")

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return self.first_reschedule

    def get_task_states(
        self, dag_id: str, task_ids: list[str], run_ids: list[str]
    ) -> dict[str, dict[str, str]]:
        return {self.run_id: {t: self.task_states[t] for t in task_ids if t in self.task_states}}


@contextmanager
def running_task(ti: FakeTI, params: Mapping[str, Any] | None = None) -> Iterator[FakeTI]:
    """Make ``ti`` the current task's context, as Airflow's task runner does."""
    # Imported here: a conftest imports this module before the Airflow test environment exists.
    from airflow.sdk.execution_time.context import set_current_context

    dag_run = SimpleNamespace(dag_id=ti.dag_id, run_id=ti.run_id)
    context: Any = {"ti": ti, "dag_run": dag_run, "params": dict(params or {})}
    with set_current_context(context):
        yield ti
