"""The rendered DAG is its graph, translated: same tasks, groups, edges, rules and retries."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from handoff.acceptance.sidecar import PromotionMode
from handoff.catalog import Handoff, load_handoff
from handoff.plan.graph import PREFLIGHT_TASK, ROLLBACK_TASK, DagGraph, Runs, build_graph
from handoff.render.dag import build_dag
from tests.conftest import FIXTURES, SEED


def _with_acceptance(handoff: Handoff, **fields: Any) -> Handoff:
    assert handoff.acceptance is not None and handoff.plan is not None
    acceptance = handoff.acceptance.model_copy(update=fields)
    plan = dataclasses.replace(handoff.plan, acceptance=acceptance)
    return dataclasses.replace(handoff, acceptance=acceptance, plan=plan)


def _manual(handoff: Handoff) -> Handoff:
    assert handoff.acceptance is not None
    promotion = handoff.acceptance.promotion.model_copy(update={"mode": PromotionMode.MANUAL})
    return _with_acceptance(handoff, promotion=promotion)


def _no_scanner(handoff: Handoff) -> Handoff:
    assert handoff.environment is not None and handoff.plan is not None
    security = handoff.environment.security.model_copy(update={"scanner_image": None})
    environment = handoff.environment.model_copy(update={"security": security})
    plan = dataclasses.replace(handoff.plan, environment=environment)
    return dataclasses.replace(handoff, environment=environment, plan=plan)


def _missing_settings(handoff: Handoff) -> Handoff:
    assert handoff.acceptance is not None
    checks = handoff.acceptance.checks.model_copy(update={"journeys": [], "pages": []})
    return _with_acceptance(handoff, checks=checks)


def _integrity_command(handoff: Handoff) -> Handoff:
    assert handoff.acceptance is not None
    checks = handoff.acceptance.checks
    integrity = checks.data_integrity.model_copy(update={"command": ["/opt/check"]})
    return _with_acceptance(handoff, checks=checks.model_copy(update={"data_integrity": integrity}))


VARIANTS: dict[str, Callable[[Handoff], Handoff]] = {
    "seed": lambda h: h,
    "manual promotion": _manual,
    "no scanner": _no_scanner,
    "missing settings": _missing_settings,
    "integrity command": _integrity_command,
}


@pytest.fixture(scope="module")
def seed_handoff() -> Handoff:
    return load_handoff(SEED)


def _rendered(handoff: Handoff) -> tuple[Any, DagGraph]:
    assert handoff.plan is not None
    return build_dag(handoff, register=False), build_graph(handoff.plan)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_dag_has_the_graphs_tasks_groups_edges_rules_and_retries(
    seed_handoff: Handoff, variant: str
) -> None:
    dag, graph = _rendered(VARIANTS[variant](seed_handoff))
    assert dag.task_ids == list(graph.task_ids)
    assert set(dag.task_group_dict) == {g.id for g in graph.groups}
    edges = {(task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids}
    assert edges == graph.task_edges()
    for planned in graph.tasks:
        task = dag.get_task(planned.id)
        assert task.task_group.group_id == planned.group
        assert task.trigger_rule.value == planned.trigger_rule.value
        assert task.retries == (planned.retries if planned.retries is not None else 0)
        if planned.retry_delay is not None:
            assert task.retry_delay == planned.retry_delay
        assert task.is_teardown is planned.is_teardown


def test_each_kind_of_task_becomes_its_operator(seed_handoff: Handoff) -> None:
    from handoff.render.dag import _callable_of
    from handoff.tasks.human_gate import HandoffGate
    from handoff.tasks.scanner_gate import ScannerGate
    from handoff.tasks.step_operator import StepOperator
    from handoff.tasks.wait import WaitUntilOperator
    from handoff.watch.operator import WatchWindowOperator

    dag, graph = _rendered(_manual(seed_handoff))
    operators = {
        Runs.WAIT: WaitUntilOperator,
        Runs.WATCH: WatchWindowOperator,
        Runs.HUMAN_GATE: HandoffGate,
        Runs.SCANNER: ScannerGate,
    }
    contract = {"contract_path": str(seed_handoff.contract_path)}
    for planned in graph.tasks:
        task = dag.get_task(planned.id)
        assert type(task) is operators.get(planned.runs, StepOperator), planned.id
        if isinstance(task, StepOperator):
            assert task.python_callable is _callable_of(planned)
            expected = {**(contract if planned.runs is not Runs.FINALIZE else {})}
            assert task.op_kwargs == {**expected, **planned.op_kwargs}
    assert f"task_ids='{PREFLIGHT_TASK}'" in dag.get_task("wait_for_deploy_time").target_time
    assert dag.get_task("go_no_go").response_timeout == timedelta(hours=1)
    assert dag.get_task("validation_period.watch").window == "validation"


def test_callbacks_follow_the_graph(seed_handoff: Handoff) -> None:
    dag, graph = _rendered(seed_handoff)
    for planned in graph.tasks:
        task = dag.get_task(planned.id)
        failure = [getattr(c, "func", c).__name__ for c in task.on_failure_callback or []]
        assert ("escalate" in failure) is planned.escalates, planned.id
        assert bool(task.on_execute_callback) is planned.records_timings, planned.id
        announces = len(task.on_success_callback or []) - planned.records_timings
        assert announces == (planned.on_success is not None), planned.id


def test_a_scheduled_fixture_renders_its_graph() -> None:
    handoff = load_handoff(FIXTURES / "acceptance" / "handoffs" / "accepted.md")
    dag, graph = _rendered(handoff)
    assert dag.task_ids == list(graph.task_ids)
    assert {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids} == graph.task_edges()


def test_a_list_edge_is_wired_at_once_as_airflow_records_it_on_a_group(
    seed_handoff: Handoff,
) -> None:
    # `[switch, verify, ...] >> rollback` records the rolled-back task on each group before it
    # (what the graph view draws), which the same nodes wired one by one would not.
    dag, graph = _rendered(seed_handoff)
    [edge] = [e for e in graph.edges if e.downstream == "rollback"]
    assert edge.is_list and len(edge.upstream) == 5
    rollback = dag.task_group_dict["rollback"]
    assert rollback.upstream_group_ids == set(edge.upstream)
    assert rollback.upstream_task_ids == set()
    for group in edge.upstream:
        assert ROLLBACK_TASK in dag.task_group_dict[group].downstream_task_ids


def test_the_renderer_knows_what_every_kind_of_task_runs() -> None:
    from handoff.render.dag import _CALLABLES, _FACTORIES

    # A registered check's gate names its own callable (tests/unit/checks/test_registry.py).
    assert set(_CALLABLES) | set(_FACTORIES) | {Runs.CHECK_GATE} == set(Runs)
    assert not set(_CALLABLES) & set(_FACTORIES)
    assert Runs.CHECK_GATE not in set(_CALLABLES) | set(_FACTORIES)
