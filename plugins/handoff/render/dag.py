"""Render one handoff's plan into an Airflow DAG: the only module that builds Airflow objects.

The DAG's shape (tasks, groups, edges, trigger rules, retries) is `handoff.plan.graph`'s; this
module translates it: a table from what each task runs to its callable or operator, the
operators created in the graph's order, the edges wired as the graph lists them, and the
task-level callbacks. The DAG follows the plan's timeline, task groups named after its
steps. Failures before the switch lead to `abort` (remove the new colour, touch nothing
else); failures after it to the `rollback` group. `finalize` fails the run whenever either
ran: a run's state comes from its leaf tasks, and a successful rollback leaf would otherwise
turn the run green.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from itertools import groupby
from typing import Any

from airflow.sdk import DAG, BaseOperator, TaskGroup
from airflow.sdk import TriggerRule as AirflowTriggerRule
from airflow.sdk.definitions.param import ParamsDict

from handoff.analysis.defaults import AnalysisThresholds
from handoff.catalog import Handoff
from handoff.contract.model import MetricKind
from handoff.evidence.store import report_dir_of
from handoff.plan import StepKind
from handoff.plan.graph import (
    PREFLIGHT_TASK,
    DagGraph,
    GraphTask,
    OnSuccess,
    Runs,
    TriggerRule,
    build_graph,
)
from handoff.plan.naming import dag_id_for
from handoff.render.docs import dag_doc
from handoff.render.params import trigger_params
from handoff.runtime.engine_factory import live_tls
from handoff.tasks import check_gates, migrations, notify, report_step, steps
from handoff.tasks.context import include_dir
from handoff.tasks.human_gate import HandoffGate
from handoff.tasks.step_operator import StepOperator
from handoff.tasks.wait import WaitUntilOperator
from handoff.timetable import NoticeTimetable
from handoff.watch.evaluate import LatencyBudget, WatchThresholds
from handoff.watch.operator import WatchWindowOperator
from handoff.watch.outage import EngineOutage

# What each Python step of the graph runs.
_CALLABLES: dict[Runs, Callable[..., Any]] = {
    Runs.PREFLIGHT: steps.preflight,
    Runs.NOTICE: steps.pre_deploy_notice,
    Runs.DEPLOY: steps.deploy_release,
    Runs.EXPAND: migrations.expand_schema,
    Runs.CONTRACT: migrations.contract_schema,
    Runs.NOT_VERIFIED: check_gates.not_verified,
    Runs.SWITCH: steps.switch_traffic,
    Runs.ALL_CLEAR: steps.all_clear,
    Runs.RETIRE: steps.retire_old_colour,
    Runs.ABORT: steps.abort_release,
    Runs.ROLLBACK: steps.rollback_release,
    Runs.FINALIZE: steps.finalize,
    Runs.REPORT: report_step.write_run_report,
}


def _callable_of(task: GraphTask) -> Callable[..., Any]:
    """Return what a Python step runs: a registered check's gate names its own callable."""
    if task.runs is Runs.CHECK_GATE:
        return check_gates.task_callable(task.gate_task)
    return _CALLABLES[task.runs]


# finalize needs only the ids of the tasks whose running fails the run.
_WITHOUT_CONTRACT = frozenset({Runs.FINALIZE})
_ANNOUNCEMENTS = {
    OnSuccess.VALIDATION_PASSED: notify.validation_passed,
    OnSuccess.MONITORING_PASSED: notify.monitoring_passed,
}
_TRIGGER_RULES = {rule: AirflowTriggerRule(rule.value) for rule in TriggerRule}


def _from_preflight(*keys: str) -> str:
    """Return the template of a value preflight resolved for the run (the run's settings)."""
    return (
        f"{{{{ ti.xcom_pull(task_ids='{PREFLIGHT_TASK}')"
        + "".join(f"['{k}']" for k in keys)
        + " }}"
    )


class _Renderer:
    """Creates the operators of one handoff DAG from its graph; call `render()` in the DAG."""

    def __init__(self, handoff: Handoff, graph: DagGraph) -> None:
        assert handoff.plan is not None and handoff.acceptance is not None
        assert handoff.environment is not None
        self.handoff = handoff
        self.graph = graph
        self.plan = handoff.plan
        self.acceptance = handoff.acceptance
        self.environment = handoff.environment
        self.contract_path = str(handoff.contract_path)
        self._watch_settings: dict[str, Any] | None = None

    def operator(self, task: GraphTask) -> BaseOperator:
        """Create the operator of one task of the graph (inside its group's context)."""
        extra: dict[str, Any] = {}
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS and not task.is_teardown:
            extra["trigger_rule"] = _TRIGGER_RULES[task.trigger_rule]
        if task.retries is not None:
            extra["retries"] = task.retries
        if task.retry_delay is not None:
            extra["retry_delay"] = task.retry_delay
        factory = _FACTORIES.get(task.runs)
        if factory is not None:
            op = factory(self, task, extra)
        else:
            op_kwargs = dict(task.op_kwargs)
            if task.runs not in _WITHOUT_CONTRACT:
                op_kwargs = {"contract_path": self.contract_path, **op_kwargs}
            op = StepOperator(
                task_id=task.name,
                python_callable=_callable_of(task),
                op_kwargs=op_kwargs,
                **extra,
            )
        if task.is_teardown:
            op.as_teardown()
        if task.on_success is not None:
            op.on_success_callback = [
                notify.announce_on_success(self.contract_path, _ANNOUNCEMENTS[task.on_success])
            ]
        return op

    def wait(self, task: GraphTask, extra: dict[str, Any]) -> BaseOperator:
        return WaitUntilOperator(
            task_id=task.name, target_time=_from_preflight("wait_until"), **extra
        )

    def watch(self, task: GraphTask, extra: dict[str, Any]) -> BaseOperator:
        checks = self.acceptance.checks
        return WatchWindowOperator(
            task_id=task.name,
            **task.op_kwargs,
            **self.watch_settings(),
            probe_paths=[e.path for e in checks.endpoints],
            time_scale="{{ params.time_scale }}",
            **extra,
        )

    def watch_settings(self) -> dict[str, Any]:
        """Return what every watch of the DAG shares (frozen values, computed once)."""
        if self._watch_settings is None:
            router = self.environment.router
            error_rate = self.plan.threshold(MetricKind.ERROR_RATE.value).threshold
            endpoints = self.acceptance.checks.endpoints
            tls = live_tls(self.acceptance, self.environment, include_dir(self.handoff))
            self._watch_settings = {
                "base_url": f"{'https' if tls else 'http'}://{router.host}:{router.live_port}",
                # Live terminating TLS: the watch verifies the domain against the CA alone.
                "tls": {"domain": tls.domain, "ca_file": tls.ca_file} if tls else None,
                "health_path": self.acceptance.service.health_path,
                "interval": self.environment.probes.watch_interval,
                "thresholds": WatchThresholds(
                    error_rate_limit_pct=error_rate.value,
                    latency=tuple(LatencyBudget(e.path, p95_ms=e.p95_ms) for e in endpoints),
                ),
                "report_dir": str(report_dir_of(self.handoff)),
                "engine_outage": EngineOutage.of(self.environment),
            }
            if self.environment.observability is not None:
                # The same thresholds, judged on all of live's traffic in Prometheus.
                self._watch_settings |= {
                    "service": self.acceptance.service.name,
                    "handoff_id": self.plan.handoff_id,
                    "analysis": AnalysisThresholds(
                        error_rate=error_rate.value / 100,
                        p95_budgets_s={
                            e.path: e.p95_ms / 1000 for e in endpoints if e.p95_ms is not None
                        },
                    ),
                }
        return self._watch_settings

    def human_gate(self, task: GraphTask, extra: dict[str, Any]) -> BaseOperator:
        kwargs = dict(task.op_kwargs)
        if "approve_on_timeout" in kwargs:
            approve = kwargs.pop("approve_on_timeout")
            kwargs["defaults"] = HandoffGate.APPROVE if approve else HandoffGate.REJECT
        return HandoffGate(task_id=task.name, **kwargs, **extra)

    def scanner(self, task: GraphTask, extra: dict[str, Any]) -> BaseOperator:
        """Run the environment's scanner on the service network against the preview."""
        # Imported only by DAGs whose environment names a scanner.
        from handoff.tasks.scanner_gate import ScannerGate

        return ScannerGate(
            task_id=task.name,
            contract_path=self.contract_path,
            image=task.op_kwargs["image"],
            timeout=self.environment.security.scanner_timeout,
            **extra,
        )

    def render(self) -> None:
        """Create every task in the graph's order, each in its group, then wire the edges."""
        nodes: dict[str, BaseOperator | TaskGroup] = {}
        created: list[tuple[GraphTask, BaseOperator]] = []
        for group_id, tasks in groupby(self.graph.tasks, key=lambda t: t.group):
            if group_id is None:
                for task in tasks:
                    created.append((task, self.operator(task)))
                continue
            with TaskGroup(group_id) as group:
                for task in tasks:
                    created.append((task, self.operator(task)))
            nodes[group_id] = group
        nodes.update((task.id, op) for task, op in created)
        for edge in self.graph.edges:
            upstream = [nodes[node] for node in edge.upstream]
            (upstream if edge.is_list else upstream[0]) >> nodes[edge.downstream]
        self.add_callbacks(created)

    def add_callbacks(self, created: list[tuple[GraphTask, BaseOperator]]) -> None:
        """Give tasks the task-level callbacks that escalate failures and record timings.

        Task-level, never DAG-level: DAG-level callbacks run in the dag-processor, far from
        the task's log; task-level ones run in the task process.
        """
        escalate = partial(notify.escalate, self.contract_path)
        started, succeeded, failed, skipped = report_step.timing_callbacks(self.contract_path)
        for task, op in created:
            if task.escalates:
                op.on_failure_callback = [escalate]
            if task.records_timings:
                op.on_execute_callback = [*_callbacks(op.on_execute_callback), started]
                op.on_success_callback = [*_callbacks(op.on_success_callback), succeeded]
                op.on_failure_callback = [*_callbacks(op.on_failure_callback), failed]
                op.on_skipped_callback = [*_callbacks(op.on_skipped_callback), skipped]


# The tasks that are not Python steps. A table of functions, not of bound methods: a renderer
# holding its own methods would be a reference cycle, freed only by the garbage collector.
_FACTORIES: dict[Runs, Callable[[_Renderer, GraphTask, dict[str, Any]], BaseOperator]] = {
    Runs.WAIT: _Renderer.wait,
    Runs.SCANNER: _Renderer.scanner,
    Runs.HUMAN_GATE: _Renderer.human_gate,
    Runs.WATCH: _Renderer.watch,
}


def _callbacks(value: Any) -> list[Any]:
    """Return a task's callback attribute (None, one callable or a list) as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def build_dag(handoff: Handoff, register: bool = True) -> DAG:
    """Return the DAG of one deployable handoff.

    ``register=False`` keeps Airflow from bagging it from the file being parsed (the errors
    loader builds DAGs only to find those that fail).
    """
    assert (
        handoff.plan is not None
        and handoff.acceptance is not None
        and handoff.environment is not None
    )
    plan, acceptance, environment = handoff.plan, handoff.acceptance, handoff.environment
    contract = plan.contract
    schedule = None
    if acceptance.deploy_at is not None:
        lead = -(plan.step(StepKind.NOTICE).offset or timedelta(0))
        schedule = NoticeTimetable(acceptance.deploy_at - lead, acceptance.deploy_at)
    with DAG(
        auto_register=register,
        dag_id=dag_id_for(contract.handoff_id),
        description=contract.objective[:200] or contract.title,
        schedule=schedule,
        start_date=acceptance.accepted_at,
        catchup=False,
        max_active_runs=1,
        doc_md=dag_doc(handoff),
        tags=["handoff", f"service:{acceptance.service.name}", f"env:{environment.name}"],
        default_args={
            "owner": contract.recipients[0].name if contract.recipients else "sre",
            "retries": 0,
        },
    ) as dag:
        _Renderer(handoff, build_graph(plan)).render()
    # Set after the tasks exist: every operator deep-copies the DAG's params when it is created,
    # which was half of the loader's time, and tasks read them at run time from the DAG anyway
    # (Airflow merges DAG params, task params and the run's conf when a task starts).
    dag.params = ParamsDict(trigger_params(handoff))
    return dag
