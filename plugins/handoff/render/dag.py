"""Render one handoff's plan into an Airflow DAG: the only module that builds Airflow objects.

The DAG follows the plan's timeline, task groups named after its steps. Failures before the
switch lead to `abort` (remove the new colour, touch nothing else); failures after it to the
`rollback` group. `finalize` fails the run whenever either ran: a run's state comes from its
leaf tasks, and a successful rollback leaf would otherwise turn the run green.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from airflow.sdk import DAG, BaseOperator, TaskGroup, TriggerRule
from airflow.sdk.definitions.param import ParamsDict

from handoff.acceptance.sidecar import OnTimeout, PromotionMode
from handoff.catalog import Handoff
from handoff.contract.model import MetricKind
from handoff.evidence.store import report_dir_of
from handoff.plan import CheckKind, CheckPhase, StepKind
from handoff.plan.bindings import missing_settings as _missing_settings
from handoff.plan.naming import dag_id_for
from handoff.render.docs import dag_doc
from handoff.render.params import trigger_params
from handoff.tasks import gate_checks, gate_readiness, notify, report_step, steps
from handoff.tasks.context import PREFLIGHT_TASK
from handoff.tasks.gates import HandoffGate
from handoff.tasks.step_operator import StepOperator
from handoff.tasks.wait import WaitUntilOperator
from handoff.timetable import NoticeTimetable
from handoff.watch.evaluate import LatencyBudget, WatchThresholds
from handoff.watch.operator import WatchWindowOperator
from handoff.watch.outage import EngineOutage

# Checks that run on the preview before the switch, in this order; HEALTH has its own task.
_PRE_SWITCH_GATES: tuple[tuple[CheckKind, Any, dict[str, Any]], ...] = (
    (CheckKind.PERFORMANCE, gate_checks.performance_gate, {}),
    (CheckKind.SECURITY, gate_checks.security_gate, {}),
    (CheckKind.ACCESSIBILITY, gate_checks.accessibility_gate, {}),
    (CheckKind.SMOKE, gate_checks.smoke_gate, {"listener": "preview"}),
)


class _Builder:
    """Creates the tasks of one handoff DAG; call `build()` inside the DAG context."""

    def __init__(self, handoff: Handoff) -> None:
        assert handoff.plan is not None and handoff.acceptance is not None
        assert handoff.environment is not None
        self.handoff = handoff
        self.plan = handoff.plan
        self.acceptance = handoff.acceptance
        self.environment = handoff.environment
        self.kwargs = {"contract_path": str(handoff.contract_path)}

    def python(self, task_id: str, callable_: Any, **extra: Any) -> StepOperator:
        op_kwargs = {**self.kwargs, **extra.pop("op_kwargs", {})}
        return StepOperator(
            task_id=task_id, python_callable=callable_, op_kwargs=op_kwargs, **extra
        )

    def watch(
        self, task_id: str, window: str, duration: timedelta, ends_after_switch: timedelta
    ) -> WatchWindowOperator:
        router = self.environment.router
        error_rate = self.plan.threshold(MetricKind.ERROR_RATE.value).threshold
        checks = self.acceptance.checks
        return WatchWindowOperator(
            task_id=task_id,
            window=window,
            duration=duration,
            ends_after_switch=ends_after_switch,
            switch_task_id=steps.SWITCH_TASK,
            base_url=f"http://{router.host}:{router.live_port}",
            health_path=self.acceptance.service.health_path,
            probe_paths=[e.path for e in checks.endpoints],
            interval=self.environment.probes.watch_interval,
            thresholds=WatchThresholds(
                error_rate_limit_pct=error_rate.value,
                latency=tuple(LatencyBudget(e.path, p95_ms=e.p95_ms) for e in checks.endpoints),
            ),
            time_scale="{{ params.time_scale }}",
            report_dir=str(report_dir_of(self.handoff)),
            engine_outage=EngineOutage.of(self.environment),
        )

    def criteria(self, kind: CheckKind, phase: CheckPhase) -> list[str]:
        """Return the names of the criteria bound to a check in a phase."""
        return [b.criterion.name for b in self.plan.checks_in(phase) if b.kind is kind]

    def gate(self, kind: CheckKind, task_id: str, callable_: Any, **op_kwargs: Any) -> Any:
        """Return the gate task of a check, or a not-verified record when it has no settings."""
        missing = _missing_settings(kind, self.acceptance)
        if missing:
            return self.python(
                task_id,
                gate_checks.not_verified,
                op_kwargs={"kind": kind.value, "reason": missing},
            )
        return self.python(task_id, callable_, op_kwargs=op_kwargs)

    def pre_switch_gates(self) -> list[BaseOperator]:
        gates: list[BaseOperator] = [
            self.python("health_via_preview", steps.health_gate, op_kwargs={"listener": "preview"})
        ]
        for kind, callable_, extra in _PRE_SWITCH_GATES:
            if self.criteria(kind, CheckPhase.PRE_SWITCH):
                gates.append(self.gate(kind, kind.name.lower(), callable_, **extra))
        if self.acceptance.checks.data_integrity.command is not None:
            # Only a command can judge data before the switch (the store probe needs traffic).
            gates.append(self.python("data_integrity", gate_checks.integrity_gate))
        scanner = self.environment.security.scanner_image
        if scanner and self.criteria(CheckKind.SECURITY, CheckPhase.PRE_SWITCH):
            gates.append(self.scanner(scanner))
        return gates

    def scanner(self, image: str) -> BaseOperator:
        """Run the environment's scanner on the service network against the preview."""
        # Imported only by DAGs whose environment names a scanner.
        from handoff.tasks.gate_scanner import ScannerGate

        return ScannerGate(
            task_id="security_scan",
            contract_path=self.kwargs["contract_path"],
            image=image,
            timeout=self.environment.security.scanner_timeout,
        )

    def post_switch_verification(self) -> None:
        """Create the checks on live right after the switch (a failure rolls back)."""
        self.python("health_via_live", steps.health_gate, op_kwargs={"listener": "live"})
        if self.criteria(CheckKind.SMOKE, CheckPhase.POST_SWITCH):
            self.gate(CheckKind.SMOKE, "smoke_via_live", gate_checks.smoke_gate, listener="live")
        self.python("data_integrity", steps.data_integrity)
        if self.criteria(CheckKind.ROLLBACK_READINESS, CheckPhase.POST_SWITCH):
            self.python("rollback_readiness", gate_readiness.rollback_readiness)
        self.python("observability", gate_readiness.observability)

    def build(self) -> None:
        preflight = self.python(PREFLIGHT_TASK, steps.preflight)
        notice = self.python("pre_deploy_notice", steps.pre_deploy_notice)
        wait = WaitUntilOperator(
            task_id="wait_for_deploy_time",
            target_time="{{ ti.xcom_pull(task_ids='preflight')['wait_until'] }}",
        )
        with TaskGroup("deploy") as deploy:
            # Retried once for crashes, like the switch: a retry re-takes its own lease and
            # the deploy converges. Decided failures raise AirflowFailException (no retry).
            self.python(
                "start_release",
                steps.deploy_release,
                retries=1,
                retry_delay=timedelta(seconds=5),
            )
        with TaskGroup("pre_switch_gates") as gates:
            self.pre_switch_gates()
        before_switch: list[Any] = [deploy, gates]
        chain_end: Any = gates
        if self.acceptance.promotion.mode is PromotionMode.MANUAL:
            go = self.go_no_go()
            gates >> go
            before_switch.append(go)
            chain_end = go
        with TaskGroup("switch") as switch:
            # A crashed worker (killed, OOM) is retried once: the switch converges when run
            # again (tests/drills). Failures the step decides raise AirflowFailException,
            # which is never retried.
            self.python(
                "move_live_traffic",
                steps.switch_traffic,
                retries=1,
                retry_delay=timedelta(seconds=5),
            )
        with TaskGroup("post_switch_verification") as verify:
            self.post_switch_verification()
        # Windows count from the switch: each watch ends at its window's end after the switch
        # time the run recorded, however often the watch task is retried or re-executed.
        all_clear_at, validation_end, monitoring_end = self.window_ends()
        with TaskGroup("all_clear") as all_clear:
            watch = self.watch("watch", "all-clear", all_clear_at, all_clear_at)
            watch >> self.python("announce", steps.all_clear)
        with TaskGroup("validation_period") as validation:
            watch = self.watch("watch", "validation", validation_end - all_clear_at, validation_end)
            gate = self.user_issues_gate()
            gate.on_success_callback = [
                notify.announce_on_success(self.kwargs["contract_path"], notify.validation_passed)
            ]
            watch >> gate
        with TaskGroup("monitoring_period") as monitoring:
            watch = self.watch(
                "watch", "monitoring", monitoring_end - validation_end, monitoring_end
            )
            watch.on_success_callback = [
                notify.announce_on_success(self.kwargs["contract_path"], notify.monitoring_passed)
            ]
        with TaskGroup("handover") as handover:
            self.handover_gate() >> self.python("retire_old_colour", steps.retire_old_colour)
        abort = self.python("abort", steps.abort_release, trigger_rule=TriggerRule.ONE_FAILED)
        with TaskGroup("rollback") as rollback:
            roll_back = self.python(
                "roll_back", steps.rollback_release, trigger_rule=TriggerRule.ONE_FAILED
            )
        finalize = StepOperator(
            task_id="finalize",
            python_callable=steps.finalize,
            op_kwargs={"reason_task_ids": ["abort", "rollback.roll_back"]},
            trigger_rule=TriggerRule.ONE_SUCCESS,
            retries=0,
        )
        preflight >> notice >> wait >> deploy >> gates
        chain_end >> switch >> verify >> all_clear >> validation >> monitoring >> handover
        before_switch >> abort
        [switch, verify, all_clear, validation, monitoring] >> rollback
        [abort, roll_back] >> finalize
        report = self.report_after_leaves(finalize.dag)
        self.escalate_failures(exempt=finalize)
        self.record_timings(exempt=report)

    def report_after_leaves(self, dag: DAG) -> BaseOperator:
        """Add the report task after every leaf, as a teardown so it never decides the run's state.

        Airflow derives a run's state from its leaves but leaves teardown tasks out, so the
        former leaves (handover, finalize) still decide success or failure, and a report that
        fails to be written shows as a failed task without turning a good deployment red.
        """
        leaves = [task for task in dag.tasks if not task.downstream_list]
        report = self.python(report_step.REPORT_TASK, report_step.write_run_report, retries=0)
        report.as_teardown()
        leaves >> report
        return report

    def record_timings(self, exempt: BaseOperator) -> None:
        """Give every step task-level callbacks that record its start and end for the report."""
        started, succeeded, failed, skipped = report_step.timing_callbacks(
            self.kwargs["contract_path"]
        )
        for task in exempt.dag.tasks:
            if task is exempt:
                continue
            task.on_execute_callback = [*_callbacks(task.on_execute_callback), started]
            task.on_success_callback = [*_callbacks(task.on_success_callback), succeeded]
            task.on_failure_callback = [*_callbacks(task.on_failure_callback), failed]
            task.on_skipped_callback = [*_callbacks(task.on_skipped_callback), skipped]

    def escalate_failures(self, exempt: BaseOperator) -> None:
        """Give every task a task-level failure callback that escalates (never a DAG-level one).

        DAG-level callbacks run in the dag-processor, far from the task's log; task-level ones
        run in the task process. `finalize` fails on purpose after an abort or a rollback,
        which were announced already.
        """
        escalate = partial(notify.escalate, self.kwargs["contract_path"])
        for task in exempt.dag.tasks:
            if task is not exempt:
                task.on_failure_callback = [escalate]

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

    def go_no_go(self) -> HandoffGate:
        promotion = self.acceptance.promotion
        proceed = promotion.on_timeout is OnTimeout.PROCEED
        return HandoffGate(
            task_id="go_no_go",
            answer_key="go_no_go",
            subject="{handoff_id}: switch live traffic to {release}?",
            body="All pre-switch gates passed on the preview listener. "
            "Approve to switch live traffic.",
            values={"handoff_id": self.plan.handoff_id},
            defaults=HandoffGate.APPROVE if proceed else HandoffGate.REJECT,
            response_timeout=promotion.response_timeout,
        )

    def user_issues_gate(self) -> HandoffGate:
        metric = self.plan.contract.metric(MetricKind.USER_IMPACT)
        question = metric.text if metric else "No user-reported issues"
        return HandoffGate(
            task_id="no_user_reported_issues",
            answer_key="user_issues",
            subject="{handoff_id}: {question}?",
            body="Approve if no user has reported an issue since the switch; reject to roll back.",
            values={"handoff_id": self.plan.handoff_id, "question": question},
        )

    def handover_gate(self) -> HandoffGate:
        steps_text = "\n".join(f"- **{s.name}**: {s.text}" for s in self.plan.contract.next_steps)
        return HandoffGate(
            task_id="sign_off",
            answer_key="handover",
            subject="{handoff_id}: operations team accepts the handover?",
            body="Next steps from the contract:\n\n{next_steps}",
            values={"handoff_id": self.plan.handoff_id, "next_steps": steps_text},
        )


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
        _Builder(handoff).build()
    # Set after the tasks exist: every operator deep-copies the DAG's params when it is created,
    # which was half of the loader's time, and tasks read them at run time from the DAG anyway
    # (Airflow merges DAG params, task params and the run's conf when a task starts).
    dag.params = ParamsDict(trigger_params(handoff))
    return dag
