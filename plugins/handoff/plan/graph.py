"""The DAG of a handoff as plain entities: groups, tasks, edges, and what each task runs.

This module is the one place that knows the DAG's shape: the well-known task and group ids,
which step of the timeline each belongs to, what follows a failure of each, and, from a
`DeploymentPlan`, which tasks exist (a gate only when a criterion is bound to it, a
not-verified record when the sidecar gives its check nothing to measure), how they are wired,
their trigger rules and retries. No Airflow import: `handoff.render.dag` translates a
`DagGraph` into operators mechanically, and every other package reads ids from here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from handoff.acceptance.sidecar import OnTimeout, PromotionMode
from handoff.checks.registry import gates_in
from handoff.checks.spec import GateRuns, records_of
from handoff.contract.model import MetricKind
from handoff.plan.model import CheckKind, CheckPhase, DeploymentPlan, StepKind


def _in(group: str, name: str) -> str:
    """Return the id of a task inside a group, as Airflow prefixes it."""
    return f"{group}.{name}"


# Ids of the top-level nodes (tasks outside any group, and groups) and of the tasks that
# other packages read by id (XCom, states, timings). Spelled here only.
PREFLIGHT_TASK = "preflight"
NOTICE_TASK = "pre_deploy_notice"
WAIT_TASK = "wait_for_deploy_time"
DEPLOY_GROUP = "deploy"
GATES_GROUP = "pre_switch_gates"
GO_NO_GO_TASK = "go_no_go"
SWITCH_GROUP = "switch"
VERIFY_GROUP = "post_switch_verification"
ALL_CLEAR_GROUP = "all_clear"
VALIDATION_GROUP = "validation_period"
MONITORING_GROUP = "monitoring_period"
HANDOVER_GROUP = "handover"
ABORT_TASK = "abort"
ROLLBACK_GROUP = "rollback"
FINALIZE_TASK = "finalize"
REPORT_TASK = "report"

DEPLOY_TASK = _in(DEPLOY_GROUP, "start_release")
# With service.database.migrations only: the expand before the deploy (in the deploy group, so
# a failure aborts with live untouched) and the contract after the handover's sign-off.
EXPAND_TASK = _in(DEPLOY_GROUP, "expand_schema")
CONTRACT_TASK = _in(HANDOVER_GROUP, "contract_schema")
SWITCH_TASK = _in(SWITCH_GROUP, "move_live_traffic")
# The monitoring gate (checks/monitoring.py) in the post-switch group: its result carries the
# monitoring coverage figure.
OBSERVABILITY_TASK = _in(VERIFY_GROUP, "observability")
ROLLBACK_TASK = _in(ROLLBACK_GROUP, "roll_back")
_WATCH = "watch"
WATCH_TASKS = tuple(_in(g, _WATCH) for g in (ALL_CLEAR_GROUP, VALIDATION_GROUP, MONITORING_GROUP))

ESCALATED = "escalated to the on-call engineer"
_STOPS = "the run stops before deploying"
_ABORTS = "abort: the new colour is removed, live is untouched"
_ROLLS_BACK = "rollback to the previous colour"


@dataclass(frozen=True, slots=True)
class Stage:
    """A top-level node of every handoff DAG (a group, or a task outside any group).

    ``step`` is the timeline step its tasks belong to (None for the report, which is about
    the run, not a step of it); ``consequence`` is what follows when one of its tasks fails.
    """

    id: str
    step: StepKind | None
    consequence: str


# In timeline order. A task belongs to the stage named by its id's first part.
STAGES: tuple[Stage, ...] = (
    Stage(PREFLIGHT_TASK, StepKind.PREFLIGHT, "the run stops; nothing was deployed"),
    Stage(NOTICE_TASK, StepKind.NOTICE, _STOPS),
    Stage(
        WAIT_TASK,
        StepKind.WAIT_FOR_WINDOW,
        "the deployment window was missed; the run stops, nothing deployed",
    ),
    Stage(DEPLOY_GROUP, StepKind.DEPLOY, _ABORTS),
    Stage(GATES_GROUP, StepKind.PRE_SWITCH_GATES, _ABORTS),
    Stage(GO_NO_GO_TASK, StepKind.PRE_SWITCH_GATES, _ABORTS),
    Stage(SWITCH_GROUP, StepKind.SWITCH, _ROLLS_BACK),
    Stage(VERIFY_GROUP, StepKind.POST_SWITCH_VERIFY, _ROLLS_BACK),
    Stage(ALL_CLEAR_GROUP, StepKind.ALL_CLEAR, _ROLLS_BACK),
    Stage(VALIDATION_GROUP, StepKind.VALIDATION_PERIOD, _ROLLS_BACK),
    Stage(MONITORING_GROUP, StepKind.MONITORING_PERIOD, _ROLLS_BACK),
    Stage(HANDOVER_GROUP, StepKind.HANDOVER, "the release stays live; the handover needs a person"),
    Stage(ABORT_TASK, StepKind.ROLLBACK, "MANUAL INTERVENTION: the abort did not complete"),
    Stage(ROLLBACK_GROUP, StepKind.ROLLBACK, "MANUAL INTERVENTION: the rollback did not complete"),
    Stage(FINALIZE_TASK, StepKind.FINALIZE, ESCALATED),
    Stage(REPORT_TASK, None, ESCALATED),
)
_STAGE_BY_ID = {stage.id: stage for stage in STAGES}


def stage_of(task_id: str) -> Stage | None:
    """Return the stage a task id belongs to (by its first part), or None if it is unknown."""
    return _STAGE_BY_ID.get(task_id.split(".")[0])


def step_of(task_id: str) -> StepKind | None:
    """Return the timeline step a task belongs to (None for the report task, or unknown ids)."""
    stage = stage_of(task_id)
    return stage.step if stage else None


def consequence_of(task_id: str) -> str:
    """Return what follows a failure of the task."""
    stage = stage_of(task_id)
    return stage.consequence if stage else ESCALATED


class TriggerRule(enum.Enum):
    """When a task runs, by its upstream tasks' states: the Airflow trigger rules used here."""

    ALL_SUCCESS = "all_success"
    ONE_FAILED = "one_failed"
    ONE_SUCCESS = "one_success"
    # What Airflow gives a teardown task: it runs once everything upstream is done.
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"


class Runs(enum.Enum):
    """What a task runs: a stable name that the renderer maps to its callable or operator."""

    PREFLIGHT = "preflight"
    NOTICE = "notice"
    WAIT = "wait"
    DEPLOY = "deploy"
    EXPAND = "expand the schema"
    CONTRACT = "contract the schema"
    # A registered check's gate: the task's `gate_task` names its callable (checks.registry).
    CHECK_GATE = "check gate"
    SCANNER = "scanner"
    NOT_VERIFIED = "not verified"
    HUMAN_GATE = "human gate"
    SWITCH = "switch"
    WATCH = "watch"
    ALL_CLEAR = "all-clear announcement"
    RETIRE = "retire the old colour"
    ABORT = "abort"
    ROLLBACK = "roll back"
    FINALIZE = "finalize"
    REPORT = "report"


class OnSuccess(enum.Enum):
    """An announcement a task makes when it succeeds (a passed phase)."""

    VALIDATION_PASSED = "validation passed"
    MONITORING_PASSED = "monitoring passed"


_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class GraphTask:
    """One task of the DAG.

    ``id`` is the full task id (``group.name`` inside a group); ``op_kwargs`` are plain data
    for the callable or operator (the renderer adds the contract's path and what comes from
    the environment); ``retries`` None keeps the DAG's default; ``checks`` and ``phase``
    say which checks' evidence the task records and when in the timeline it runs.
    """

    id: str
    runs: Runs
    group: str | None = None
    op_kwargs: Mapping[str, Any] = field(default_factory=dict)
    trigger_rule: TriggerRule = TriggerRule.ALL_SUCCESS
    retries: int | None = None
    retry_delay: timedelta | None = None
    is_teardown: bool = False
    checks: tuple[CheckKind, ...] = ()
    phase: CheckPhase | None = None
    # For CHECK_GATE: "module:function" of the gate's task callable, from its CheckSpec.
    gate_task: str = ""
    on_success: OnSuccess | None = None
    # finalize fails on purpose after an abort or a rollback, which were announced already.
    escalates: bool = True
    # The report writes the timings; it records none of its own.
    records_timings: bool = True

    @property
    def name(self) -> str:
        """Return the task's id inside its group."""
        return self.id[len(self.group) + 1 :] if self.group else self.id


@dataclass(frozen=True, slots=True)
class GraphGroup:
    """A task group: the tasks of one stage of the timeline."""

    id: str
    step: StepKind


@dataclass(frozen=True, slots=True)
class Edge:
    """Upstream nodes (one, or a list wired at once) before a downstream node.

    A node is a task id or a group id. Airflow wires a group from its leaves, to its roots,
    as the edges before made them, and records a list of nodes on a group otherwise than
    the same nodes one by one: the renderer wires each edge as it is written here.
    """

    upstream: tuple[str, ...]
    downstream: str
    is_list: bool = False


@dataclass(frozen=True)
class DagGraph:
    """A handoff's DAG: groups and tasks in creation order, and edges in wiring order."""

    groups: tuple[GraphGroup, ...]
    tasks: tuple[GraphTask, ...]
    edges: tuple[Edge, ...]

    def task(self, task_id: str) -> GraphTask:
        """Return a task by its id."""
        return next(t for t in self.tasks if t.id == task_id)

    @property
    def task_ids(self) -> tuple[str, ...]:
        """Return every task id, in creation order."""
        return tuple(t.id for t in self.tasks)

    def checks_in(self, phase: CheckPhase) -> tuple[GraphTask, ...]:
        """Return the tasks that record a check's evidence in a phase."""
        return tuple(t for t in self.tasks if t.phase is phase and t.checks)

    def task_edges(self) -> frozenset[tuple[str, str]]:
        """Return the (upstream, downstream) pairs of tasks the edges result in.

        Replays the edges in order as Airflow resolves a group: from the group's leaves (its
        tasks without a downstream task in the group), to its roots (without an upstream one).
        """
        members: dict[str, list[str]] = {}
        for task in self.tasks:
            if task.group is not None:
                members.setdefault(task.group, []).append(task.id)
        ups: dict[str, set[str]] = {t.id: set() for t in self.tasks}
        downs: dict[str, set[str]] = {t.id: set() for t in self.tasks}

        def ends(node: str, links: dict[str, set[str]]) -> list[str]:
            inside = members.get(node)
            if inside is None:
                return [node]
            return [t for t in inside if links[t].isdisjoint(inside)]

        for edge in self.edges:
            roots = ends(edge.downstream, ups)
            for node in edge.upstream:
                for leaf in ends(node, downs):
                    for root in roots:
                        downs[leaf].add(root)
                        ups[root].add(leaf)
        return frozenset((up, down) for up, found in downs.items() for down in found)


class _Wiring:
    """The edges so far, and which tasks have a downstream task (to find the leaves).

    Cheaper than resolving every edge (`DagGraph.task_edges`): a task gets a downstream
    when it is an edge's upstream, or a leaf of a group that is one. Groups do not nest.
    """

    def __init__(self) -> None:
        self.group_of: dict[str, str | None] = {}
        self.members: dict[str, list[str]] = {}
        self.edges: list[Edge] = []
        self.with_downstream: set[str] = set()
        self.with_downstream_inside: set[str] = set()

    def add_task(self, task: GraphTask) -> None:
        self.group_of[task.id] = task.group
        if task.group is not None:
            self.members.setdefault(task.group, []).append(task.id)

    def connect(self, upstream: str | list[str], downstream: str) -> None:
        """Add an edge from a node, or from a list of nodes at once, to a node."""
        ups = (upstream,) if isinstance(upstream, str) else tuple(upstream)
        self.edges.append(Edge(ups, downstream, is_list=not isinstance(upstream, str)))
        inside = self.group_of.get(downstream)
        for node in ups:
            members = self.members.get(node)
            if members is None:
                self.with_downstream.add(node)
                if inside is not None and self.group_of[node] == inside:
                    self.with_downstream_inside.add(node)
            else:
                self.with_downstream.update(
                    t for t in members if t not in self.with_downstream_inside
                )

    def leaves(self) -> list[str]:
        """Return the tasks without a downstream task, in creation order."""
        return [t for t in self.group_of if t not in self.with_downstream]


# Retried once for crashes (killed, OOM): a retried deploy re-takes its own lease, a retried
# switch converges (tests/drills). Failures a step decides raise AirflowFailException, which
# is never retried.
_CRASH_RETRIES = {"retries": 1, "retry_delay": timedelta(seconds=5)}


class _GraphBuilder:
    """Decides the tasks of one handoff's DAG from its plan; `build()` returns the graph."""

    def __init__(self, plan: DeploymentPlan) -> None:
        if plan.acceptance is None or plan.environment is None:
            raise ValueError(f"{plan.handoff_id}: a DAG needs an accepted plan with an environment")
        self.plan = plan
        self.acceptance = plan.acceptance
        self.environment = plan.environment
        self.groups: list[GraphGroup] = []
        self.tasks: list[GraphTask] = []
        self.wiring = _Wiring()
        self.group: str | None = None

    def add(self, name: str, runs: Runs, **fields: Any) -> str:
        """Add a task to the current group; return its id."""
        task_id = _in(self.group, name) if self.group else name
        task = GraphTask(task_id, runs, self.group, **fields)
        self.tasks.append(task)
        self.wiring.add_task(task)
        return task_id

    def open(self, group: str) -> str:
        """Make the next tasks part of a group; return its id."""
        step = _STAGE_BY_ID[group].step
        assert step is not None
        self.groups.append(GraphGroup(group, step))
        self.group = group
        return group

    def close(self) -> None:
        """Make the next tasks part of no group."""
        self.group = None

    def criteria(self, kind: CheckKind, phase: CheckPhase) -> bool:
        """Tell whether a criterion is bound to a check in a phase."""
        return any(b.kind is kind and phase in b.phases for b in self.plan.checks)

    def check_gates(self, phase: CheckPhase) -> None:
        """Add the registered checks' gates of a phase, in the registry's order.

        A gate bound to a criterion records "not verified" instead of measuring when its
        check's settings give it nothing to measure.
        """
        for spec, gate in gates_in(phase):
            if not gate.in_dag(self.acceptance, self.criteria(spec.kind, phase)):
                continue
            missing = spec.missing(self.acceptance) if gate.runs is GateRuns.WHEN_BOUND else ""
            if missing:
                self.add(
                    gate.task_id,
                    Runs.NOT_VERIFIED,
                    op_kwargs={"kind": spec.kind.value, "reason": missing},
                    checks=(spec.kind,),
                    phase=phase,
                )
            else:
                self.add(
                    gate.task_id,
                    Runs.CHECK_GATE,
                    op_kwargs=gate.kwargs,
                    checks=records_of(spec, gate),
                    phase=phase,
                    gate_task=gate.task,
                )

    def pre_switch_gates(self) -> None:
        pre = CheckPhase.PRE_SWITCH
        self.check_gates(pre)
        # The environment's scanner: an operator of its own, set by the environment.
        scanner = self.environment.security.scanner_image
        if scanner and self.criteria(CheckKind.SECURITY, pre):
            self.add(
                "security_scan",
                Runs.SCANNER,
                op_kwargs={"image": scanner},
                checks=(CheckKind.SECURITY,),
                phase=pre,
            )

    def post_switch_verification(self) -> None:
        """Add the checks on live right after the switch (a failure rolls back)."""
        self.check_gates(CheckPhase.POST_SWITCH)

    def watch(
        self,
        window: str,
        duration: timedelta,
        ends_after_switch: timedelta,
        on_success: OnSuccess | None = None,
    ) -> str:
        return self.add(
            _WATCH,
            Runs.WATCH,
            op_kwargs={
                "window": window,
                "duration": duration,
                "ends_after_switch": ends_after_switch,
                "switch_task_id": SWITCH_TASK,
            },
            checks=(CheckKind.MONITORING,),
            phase=CheckPhase.WATCH,
            on_success=on_success,
        )

    def window_ends(self) -> tuple[timedelta, timedelta, timedelta]:
        """Return the all-clear, validation-end and monitoring-end offsets from the switch."""
        offsets = [
            self.plan.step(kind).offset or timedelta(0)
            for kind in (StepKind.ALL_CLEAR, StepKind.VALIDATION_PERIOD, StepKind.MONITORING_PERIOD)
        ]
        # Each later window lasts at least a minute, even if a contract states them out of order.
        for index in (1, 2):
            offsets[index] = max(offsets[index], offsets[index - 1] + timedelta(minutes=1))
        return offsets[0], offsets[1], offsets[2]

    def migrations(self) -> bool:
        """Tell whether the sidecar names a migration command (service.database.migrations)."""
        database = self.acceptance.service.database
        return database is not None and database.migrations is not None

    def go_no_go(self) -> str:
        promotion = self.acceptance.promotion
        return self.add(
            GO_NO_GO_TASK,
            Runs.HUMAN_GATE,
            op_kwargs={
                "answer_key": "go_no_go",
                "subject": "{handoff_id}: switch live traffic to {release}?",
                "body": "All pre-switch gates passed on the preview listener. "
                "Approve to switch live traffic.",
                "values": {"handoff_id": self.plan.handoff_id},
                "approve_on_timeout": promotion.on_timeout is OnTimeout.PROCEED,
                "response_timeout": promotion.response_timeout,
            },
        )

    def user_issues_gate(self) -> str:
        metric = self.plan.contract.metric(MetricKind.USER_IMPACT)
        question = metric.text if metric else "No user-reported issues"
        return self.add(
            "no_user_reported_issues",
            Runs.HUMAN_GATE,
            op_kwargs={
                "answer_key": "user_issues",
                "subject": "{handoff_id}: {question}?",
                "body": "Approve if no user has reported an issue since the switch; "
                "reject to roll back.",
                "values": {"handoff_id": self.plan.handoff_id, "question": question},
            },
            on_success=OnSuccess.VALIDATION_PASSED,
        )

    def handover_gate(self) -> str:
        steps_text = "\n".join(f"- **{s.name}**: {s.text}" for s in self.plan.contract.next_steps)
        return self.add(
            "sign_off",
            Runs.HUMAN_GATE,
            op_kwargs={
                "answer_key": "handover",
                "subject": "{handoff_id}: operations team accepts the handover?",
                "body": "Next steps from the contract:\n\n{next_steps}",
                "values": {"handoff_id": self.plan.handoff_id, "next_steps": steps_text},
            },
        )

    def build(self) -> DagGraph:
        wire = self.wiring.connect
        preflight = self.add(
            PREFLIGHT_TASK,
            Runs.PREFLIGHT,
            checks=(CheckKind.CONFIGURATION,),
            phase=CheckPhase.PREFLIGHT,
        )
        notice = self.add(NOTICE_TASK, Runs.NOTICE)
        wait = self.add(WAIT_TASK, Runs.WAIT)
        deploy = self.open(DEPLOY_GROUP)
        migrations = self.migrations()
        # Retried for crashes too: the release's migration command is locked and idempotent.
        expand = self.add("expand_schema", Runs.EXPAND, **_CRASH_RETRIES) if migrations else ""
        start = self.add("start_release", Runs.DEPLOY, **_CRASH_RETRIES)
        if expand:
            wire(expand, start)
        gates = self.open(GATES_GROUP)
        self.pre_switch_gates()
        self.close()
        before_switch = [deploy, gates]
        chain_end = gates
        if self.acceptance.promotion.mode is PromotionMode.MANUAL:
            go = self.go_no_go()
            wire(gates, go)
            before_switch.append(go)
            chain_end = go
        switch = self.open(SWITCH_GROUP)
        self.add(
            "move_live_traffic",
            Runs.SWITCH,
            checks=(CheckKind.ZERO_DOWNTIME,),
            phase=CheckPhase.SWITCH,
            **_CRASH_RETRIES,
        )
        verify = self.open(VERIFY_GROUP)
        self.post_switch_verification()
        # Windows count from the switch: each watch ends at its window's end after the switch
        # time the run recorded, however often the watch task is retried or re-executed.
        all_clear_at, validation_end, monitoring_end = self.window_ends()
        all_clear = self.open(ALL_CLEAR_GROUP)
        wire(
            self.watch("all-clear", all_clear_at, all_clear_at),
            self.add("announce", Runs.ALL_CLEAR),
        )
        validation = self.open(VALIDATION_GROUP)
        watch = self.watch("validation", validation_end - all_clear_at, validation_end)
        wire(watch, self.user_issues_gate())
        monitoring = self.open(MONITORING_GROUP)
        self.watch(
            "monitoring",
            monitoring_end - validation_end,
            monitoring_end,
            on_success=OnSuccess.MONITORING_PASSED,
        )
        handover = self.open(HANDOVER_GROUP)
        sign_off = self.handover_gate()
        retire = self.add("retire_old_colour", Runs.RETIRE)
        wire(sign_off, retire)
        if migrations:
            # Only after the sign-off and the old colour's retirement: from here on no colour
            # that needs the old schema serves, and a rollback onto it is refused.
            wire(retire, self.add("contract_schema", Runs.CONTRACT, **_CRASH_RETRIES))
        self.close()
        abort = self.add(ABORT_TASK, Runs.ABORT, trigger_rule=TriggerRule.ONE_FAILED)
        self.open(ROLLBACK_GROUP)
        roll_back = self.add(
            "roll_back",
            Runs.ROLLBACK,
            trigger_rule=TriggerRule.ONE_FAILED,
            checks=(CheckKind.ROLLBACK_READINESS, CheckKind.DATA_INTEGRITY),
        )
        self.close()
        finalize = self.add(
            FINALIZE_TASK,
            Runs.FINALIZE,
            op_kwargs={"reason_task_ids": [ABORT_TASK, ROLLBACK_TASK]},
            trigger_rule=TriggerRule.ONE_SUCCESS,
            retries=0,
            escalates=False,
        )
        for chain in (
            [preflight, notice, wait, deploy, gates],
            [chain_end, switch, verify, all_clear, validation, monitoring, handover],
        ):
            for up, down in pairwise(chain):
                wire(up, down)
        wire(before_switch, abort)
        wire([switch, verify, all_clear, validation, monitoring], ROLLBACK_GROUP)
        wire([abort, roll_back], finalize)
        self.report_after_leaves()
        return DagGraph(
            groups=tuple(self.groups),
            tasks=tuple(self.tasks),
            edges=tuple(self.wiring.edges),
        )

    def report_after_leaves(self) -> None:
        """Add the report task after every leaf, as a teardown so it never decides the run's state.

        Airflow derives a run's state from its leaves but leaves teardown tasks out, so the
        former leaves (handover, finalize) still decide success or failure, and a report that
        fails to be written shows as a failed task without turning a good deployment red.
        """
        leaves = self.wiring.leaves()
        report = self.add(
            REPORT_TASK,
            Runs.REPORT,
            trigger_rule=TriggerRule.ALL_DONE_SETUP_SUCCESS,
            retries=0,
            is_teardown=True,
            records_timings=False,
        )
        self.wiring.connect(leaves, report)


def build_graph(plan: DeploymentPlan) -> DagGraph:
    """Return the DAG of an accepted plan (with its acceptance and environment) as entities."""
    return _GraphBuilder(plan).build()
