"""The DAG's shape as plain entities, built from the seed's plan without Airflow."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest

from handoff.acceptance.sidecar import DatabaseSpec, OnTimeout, PromotionMode
from handoff.catalog import load_handoff
from handoff.plan import CheckKind, CheckPhase, DeploymentPlan, StepKind
from handoff.plan.graph import (
    ABORT_TASK,
    CONTRACT_TASK,
    DEPLOY_TASK,
    EXPAND_TASK,
    FINALIZE_TASK,
    PREFLIGHT_TASK,
    REPORT_TASK,
    ROLLBACK_TASK,
    STAGES,
    SWITCH_TASK,
    WATCH_TASKS,
    DagGraph,
    Runs,
    TriggerRule,
    build_graph,
    consequence_of,
    step_of,
)
from tests.conftest import ROOT, SEED

SEED_TASKS = [
    "preflight",
    "pre_deploy_notice",
    "wait_for_deploy_time",
    "deploy.start_release",
    "pre_switch_gates.health_via_preview",
    "pre_switch_gates.performance",
    "pre_switch_gates.security",
    "pre_switch_gates.accessibility",
    "pre_switch_gates.smoke",
    "pre_switch_gates.static_assets",
    "pre_switch_gates.security_scan",
    "switch.move_live_traffic",
    "post_switch_verification.health_via_live",
    "post_switch_verification.smoke_via_live",
    "post_switch_verification.data_integrity",
    "post_switch_verification.rollback_readiness",
    "post_switch_verification.observability",
    "all_clear.watch",
    "all_clear.announce",
    "validation_period.watch",
    "validation_period.no_user_reported_issues",
    "monitoring_period.watch",
    "handover.sign_off",
    "handover.retire_old_colour",
    "abort",
    "rollback.roll_back",
    "finalize",
    "report",
]
PRE_SWITCH = [t for t in SEED_TASKS if t.startswith("pre_switch_gates.")]


@pytest.fixture(scope="module")
def seed_plan() -> DeploymentPlan:
    plan = load_handoff(SEED).plan
    assert plan is not None and plan.acceptance is not None
    return plan


@pytest.fixture(scope="module")
def seed(seed_plan: DeploymentPlan) -> DagGraph:
    return build_graph(seed_plan)


def with_acceptance(plan: DeploymentPlan, **fields: Any) -> DeploymentPlan:
    assert plan.acceptance is not None
    return dataclasses.replace(plan, acceptance=plan.acceptance.model_copy(update=fields))


def without_scanner(plan: DeploymentPlan) -> DeploymentPlan:
    environment = plan.environment
    assert environment is not None
    security = environment.security.model_copy(update={"scanner_image": None})
    return dataclasses.replace(
        plan, environment=environment.model_copy(update={"security": security})
    )


def manual(plan: DeploymentPlan, on_timeout: OnTimeout) -> DeploymentPlan:
    assert plan.acceptance is not None
    promotion = plan.acceptance.promotion.model_copy(
        update={"mode": PromotionMode.MANUAL, "on_timeout": on_timeout}
    )
    return with_acceptance(plan, promotion=promotion)


def upstream(graph: DagGraph, task_id: str) -> set[str]:
    return {up for up, down in graph.task_edges() if down == task_id}


def test_the_graph_module_needs_no_airflow() -> None:
    code = (
        "import sys; from handoff.plan.graph import build_graph; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'airflow'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "plugins")},
    )
    assert found.stdout.strip() == "[]"


def test_seed_tasks_and_groups(seed: DagGraph) -> None:
    assert list(seed.task_ids) == SEED_TASKS
    assert [(g.id, g.step) for g in seed.groups] == [
        ("deploy", StepKind.DEPLOY),
        ("pre_switch_gates", StepKind.PRE_SWITCH_GATES),
        ("switch", StepKind.SWITCH),
        ("post_switch_verification", StepKind.POST_SWITCH_VERIFY),
        ("all_clear", StepKind.ALL_CLEAR),
        ("validation_period", StepKind.VALIDATION_PERIOD),
        ("monitoring_period", StepKind.MONITORING_PERIOD),
        ("handover", StepKind.HANDOVER),
        ("rollback", StepKind.ROLLBACK),
    ]
    for task in seed.tasks:
        assert (task.group is None) == ("." not in task.id)
        assert task.name == task.id.split(".")[-1]
    # A group's tasks come one after another, so each group is created once.
    groups_in_order = [t.group for t in seed.tasks if t.group]
    assert groups_in_order == sorted(groups_in_order, key=groups_in_order.index)


def test_well_known_ids_name_tasks_of_the_graph(seed: DagGraph) -> None:
    known = [PREFLIGHT_TASK, DEPLOY_TASK, SWITCH_TASK, ABORT_TASK, ROLLBACK_TASK, FINALIZE_TASK]
    assert set([*known, REPORT_TASK, *WATCH_TASKS]) <= set(seed.task_ids)
    assert seed.task(DEPLOY_TASK).runs is Runs.DEPLOY
    assert seed.task(SWITCH_TASK).runs is Runs.SWITCH
    assert seed.task(ROLLBACK_TASK).runs is Runs.ROLLBACK


def test_seed_edges_follow_the_timeline(seed: DagGraph) -> None:
    edges = seed.task_edges()
    chain = ["preflight", "pre_deploy_notice", "wait_for_deploy_time", "deploy.start_release"]
    assert set(pairwise(chain)) <= edges
    assert {("deploy.start_release", gate) for gate in PRE_SWITCH} <= edges
    assert upstream(seed, SWITCH_TASK) == set(PRE_SWITCH)
    assert upstream(seed, ABORT_TASK) == {DEPLOY_TASK, *PRE_SWITCH}
    assert upstream(seed, "all_clear.watch") == {
        t for t in SEED_TASKS if t.startswith("post_switch_verification.")
    }
    assert ("all_clear.watch", "all_clear.announce") in edges
    assert ("all_clear.announce", "validation_period.watch") in edges
    assert ("validation_period.watch", "validation_period.no_user_reported_issues") in edges
    assert ("monitoring_period.watch", "handover.sign_off") in edges
    assert ("handover.sign_off", "handover.retire_old_colour") in edges
    # A group's leaves lead to the rollback: the tasks nothing else in their group follows.
    assert upstream(seed, ROLLBACK_TASK) == {
        SWITCH_TASK,
        *(t for t in SEED_TASKS if t.startswith("post_switch_verification.")),
        "all_clear.announce",
        "validation_period.no_user_reported_issues",
        "monitoring_period.watch",
    }
    assert upstream(seed, FINALIZE_TASK) == {ABORT_TASK, ROLLBACK_TASK}
    assert upstream(seed, REPORT_TASK) == {"handover.retire_old_colour", FINALIZE_TASK}
    assert not any(up == REPORT_TASK for up, _ in edges)


def test_seed_trigger_rules_retries_and_teardown(seed: DagGraph) -> None:
    rules = {
        t.id: t.trigger_rule for t in seed.tasks if t.trigger_rule is not TriggerRule.ALL_SUCCESS
    }
    assert rules == {
        ABORT_TASK: TriggerRule.ONE_FAILED,
        ROLLBACK_TASK: TriggerRule.ONE_FAILED,
        FINALIZE_TASK: TriggerRule.ONE_SUCCESS,
        REPORT_TASK: TriggerRule.ALL_DONE_SETUP_SUCCESS,
    }
    retried = {t.id: (t.retries, t.retry_delay) for t in seed.tasks if t.retries is not None}
    assert retried == {
        DEPLOY_TASK: (1, timedelta(seconds=5)),
        SWITCH_TASK: (1, timedelta(seconds=5)),
        FINALIZE_TASK: (0, None),
        REPORT_TASK: (0, None),
    }
    assert [t.id for t in seed.tasks if t.is_teardown] == [REPORT_TASK]
    assert [t.id for t in seed.tasks if not t.escalates] == [FINALIZE_TASK]
    assert [t.id for t in seed.tasks if not t.records_timings] == [REPORT_TASK]
    assert seed.task(FINALIZE_TASK).op_kwargs == {"reason_task_ids": [ABORT_TASK, ROLLBACK_TASK]}


def test_which_checks_run_in_which_phase(seed: DagGraph) -> None:
    def served(phase: CheckPhase) -> dict[str, tuple[CheckKind, ...]]:
        return {t.id: t.checks for t in seed.checks_in(phase)}

    assert served(CheckPhase.PREFLIGHT) == {PREFLIGHT_TASK: (CheckKind.CONFIGURATION,)}
    assert served(CheckPhase.PRE_SWITCH) == {
        "pre_switch_gates.health_via_preview": (CheckKind.HEALTH,),
        "pre_switch_gates.performance": (CheckKind.PERFORMANCE,),
        "pre_switch_gates.security": (CheckKind.SECURITY,),
        "pre_switch_gates.accessibility": (CheckKind.ACCESSIBILITY,),
        "pre_switch_gates.smoke": (CheckKind.SMOKE,),
        "pre_switch_gates.static_assets": (CheckKind.DEPENDENCIES,),
        "pre_switch_gates.security_scan": (CheckKind.SECURITY,),
    }
    assert served(CheckPhase.SWITCH) == {SWITCH_TASK: (CheckKind.ZERO_DOWNTIME,)}
    assert served(CheckPhase.POST_SWITCH) == {
        "post_switch_verification.health_via_live": (CheckKind.HEALTH,),
        "post_switch_verification.smoke_via_live": (CheckKind.SMOKE,),
        "post_switch_verification.data_integrity": (CheckKind.DATA_INTEGRITY,),
        "post_switch_verification.rollback_readiness": (CheckKind.ROLLBACK_READINESS,),
        "post_switch_verification.observability": (
            CheckKind.MONITORING,
            CheckKind.COMMUNICATION,
            CheckKind.NOT_VERIFIED,
        ),
    }
    assert served(CheckPhase.WATCH) == {task: (CheckKind.MONITORING,) for task in WATCH_TASKS}
    smoke = seed.task("pre_switch_gates.smoke")
    assert (smoke.runs, dict(smoke.op_kwargs)) == (Runs.CHECK_GATE, {"listener": "preview"})
    assert smoke.gate_task == "handoff.tasks.check_gates:smoke_gate"
    live = seed.task("post_switch_verification.smoke_via_live")
    assert (live.runs, dict(live.op_kwargs)) == (Runs.CHECK_GATE, {"listener": "live"})
    assert live.gate_task == smoke.gate_task


def test_watches_count_from_the_switch(seed: DagGraph) -> None:
    windows = {
        t.op_kwargs["window"]: (t.op_kwargs["duration"], t.op_kwargs["ends_after_switch"])
        for t in seed.tasks
        if t.runs is Runs.WATCH
    }
    hour = timedelta(hours=1)
    assert windows == {
        "all-clear": (hour, hour),
        "validation": (23 * hour, 24 * hour),
        "monitoring": (48 * hour, 72 * hour),
    }
    assert {seed.task(t).op_kwargs["switch_task_id"] for t in WATCH_TASKS} == {SWITCH_TASK}


@pytest.mark.parametrize(
    ("on_timeout", "approve"), [(OnTimeout.ABORT, False), (OnTimeout.PROCEED, True)]
)
def test_manual_promotion_adds_a_go_no_go_before_the_switch(
    seed_plan: DeploymentPlan, on_timeout: OnTimeout, approve: bool
) -> None:
    graph = build_graph(manual(seed_plan, on_timeout))
    go = graph.task("go_no_go")
    assert go.group is None and go.runs is Runs.HUMAN_GATE
    assert graph.task_ids.index("go_no_go") == graph.task_ids.index(PRE_SWITCH[-1]) + 1
    assert go.op_kwargs["answer_key"] == "go_no_go"
    assert go.op_kwargs["approve_on_timeout"] is approve
    assert go.op_kwargs["response_timeout"] == timedelta(hours=1)
    assert upstream(graph, "go_no_go") == set(PRE_SWITCH)
    assert upstream(graph, SWITCH_TASK) == {"go_no_go"}
    assert upstream(graph, ABORT_TASK) == {DEPLOY_TASK, *PRE_SWITCH, "go_no_go"}
    assert step_of("go_no_go") is StepKind.PRE_SWITCH_GATES


def test_automatic_promotion_has_no_go_no_go(seed: DagGraph) -> None:
    assert "go_no_go" not in seed.task_ids


def test_the_scanner_runs_only_when_the_environment_names_one(
    seed: DagGraph, seed_plan: DeploymentPlan
) -> None:
    scan = seed.task("pre_switch_gates.security_scan")
    assert (scan.runs, dict(scan.op_kwargs)) == (Runs.SCANNER, {"image": "handoff-scanner:latest"})
    assert "pre_switch_gates.security_scan" not in build_graph(without_scanner(seed_plan)).task_ids


def test_the_scanner_needs_a_security_criterion(seed_plan: DeploymentPlan) -> None:
    plan = dataclasses.replace(
        seed_plan, checks=tuple(b for b in seed_plan.checks if b.kind is not CheckKind.SECURITY)
    )
    ids = build_graph(plan).task_ids
    assert "pre_switch_gates.security" not in ids
    assert "pre_switch_gates.security_scan" not in ids


def test_a_check_without_settings_becomes_a_not_verified_task(seed_plan: DeploymentPlan) -> None:
    assert seed_plan.acceptance is not None
    checks = seed_plan.acceptance.checks.model_copy(update={"journeys": [], "endpoints": []})
    graph = build_graph(with_acceptance(seed_plan, checks=checks))
    for task_id, kind in (
        ("pre_switch_gates.performance", CheckKind.PERFORMANCE),
        ("pre_switch_gates.smoke", CheckKind.SMOKE),
        ("post_switch_verification.smoke_via_live", CheckKind.SMOKE),
    ):
        task = graph.task(task_id)
        assert task.runs is Runs.NOT_VERIFIED
        assert task.checks == (kind,)
        assert task.op_kwargs["kind"] == kind.value
        assert "will be reported not verified" in task.op_kwargs["reason"]
    accessibility = graph.task("pre_switch_gates.accessibility")
    assert accessibility.runs is Runs.CHECK_GATE
    assert accessibility.gate_task == "handoff.tasks.check_gates:accessibility_gate"
    assert graph.task_ids == build_graph(seed_plan).task_ids


def test_an_integrity_command_judges_data_before_the_switch(seed_plan: DeploymentPlan) -> None:
    assert seed_plan.acceptance is not None
    checks = seed_plan.acceptance.checks
    integrity = checks.data_integrity.model_copy(update={"command": ["/opt/check"]})
    graph = build_graph(
        with_acceptance(seed_plan, checks=checks.model_copy(update={"data_integrity": integrity}))
    )
    task = graph.task("pre_switch_gates.data_integrity")
    assert (task.runs, task.phase) == (Runs.CHECK_GATE, CheckPhase.PRE_SWITCH)
    assert task.gate_task == "handoff.tasks.check_gates:integrity_gate"
    assert "pre_switch_gates.data_integrity" not in build_graph(seed_plan).task_ids


def test_a_plan_without_acceptance_has_no_graph(seed_plan: DeploymentPlan) -> None:
    with pytest.raises(ValueError, match="needs an accepted plan"):
        build_graph(dataclasses.replace(seed_plan, acceptance=None))


def test_every_task_belongs_to_a_stage_with_a_step_and_a_consequence(seed: DagGraph) -> None:
    assert {s.id for s in STAGES} >= {t.id.split(".")[0] for t in seed.tasks}
    assert step_of(DEPLOY_TASK) is StepKind.DEPLOY
    assert step_of(ABORT_TASK) is StepKind.ROLLBACK
    assert step_of(REPORT_TASK) is None
    assert step_of("unknown.task") is None
    assert consequence_of("pre_switch_gates.performance").startswith("abort:")
    assert consequence_of("validation_period.watch") == "rollback to the previous colour"
    assert consequence_of(ROLLBACK_TASK).startswith("MANUAL INTERVENTION")
    assert consequence_of(FINALIZE_TASK) == "escalated to the on-call engineer"


def _with_database(plan: DeploymentPlan, migrations: bool = True) -> DeploymentPlan:
    assert plan.acceptance is not None
    database = DatabaseSpec.model_validate(
        {"conn_id": "shop-db", "migrations": {"command": ["/opt/migrate"]} if migrations else None}
    )
    service = plan.acceptance.service.model_copy(update={"database": database})
    return with_acceptance(plan, service=service)


def test_migrations_expand_before_the_deploy_and_contract_after_the_handover(
    seed_plan: DeploymentPlan, seed: DagGraph
) -> None:
    graph = build_graph(_with_database(seed_plan))
    edges = graph.task_edges()
    assert set(graph.task_ids) == {*seed.task_ids, EXPAND_TASK, CONTRACT_TASK}
    assert graph.task(EXPAND_TASK).runs is Runs.EXPAND
    assert graph.task(CONTRACT_TASK).runs is Runs.CONTRACT
    # After preflight (the notice and the wait), before the release starts.
    assert upstream(graph, EXPAND_TASK) == {"wait_for_deploy_time"}
    assert upstream(graph, DEPLOY_TASK) == {EXPAND_TASK}
    # A failed expand aborts (the deploy group's stage), live untouched.
    assert consequence_of(EXPAND_TASK) == consequence_of(DEPLOY_TASK)
    # The contract only after the sign-off and the old colour's retirement, never before:
    # every task of the windows and the sign-off are its ancestors.
    assert upstream(graph, CONTRACT_TASK) == {"handover.retire_old_colour"}
    ancestors, frontier = set(), {CONTRACT_TASK}
    while frontier:
        frontier = {up for up, down in edges if down in frontier} - ancestors
        ancestors |= frontier
    assert {"handover.sign_off", SWITCH_TASK, "monitoring_period.watch"} <= ancestors
    assert not any(up == CONTRACT_TASK and down != REPORT_TASK for up, down in edges)
    assert upstream(graph, REPORT_TASK) == {CONTRACT_TASK, FINALIZE_TASK}
    # Without a migration command, or without a database, the DAG is the seed's.
    assert build_graph(_with_database(seed_plan, migrations=False)).task_ids == seed.task_ids
