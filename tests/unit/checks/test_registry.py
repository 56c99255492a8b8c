"""The registry of checks: one spec per kind, rules in one order, settings and gates that exist."""

from __future__ import annotations

import inspect
import typing
from collections import Counter

import pytest

from handoff.acceptance.sidecar import CheckSettings, DependencySettings
from handoff.catalog import load_handoff
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.registry import RULES, SPECS, gates_in, spec_of
from handoff.checks.spec import MEASURED_GATE_TASK, GateRuns
from handoff.tasks.check_gates import task_callable
from tests.conftest import SEED


def test_every_kind_but_not_verified_has_one_spec() -> None:
    kinds = [spec.kind for spec in SPECS]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == set(CheckKind) - {CheckKind.NOT_VERIFIED}
    assert spec_of(CheckKind.NOT_VERIFIED) is None


def test_rule_priorities_are_unique_so_the_order_is_never_a_tie() -> None:
    priorities = Counter(rule.priority for spec in SPECS for rule in spec.rules)
    assert [p for p, n in priorities.items() if n > 1] == []
    assert len(RULES) == sum(len(spec.rules) for spec in SPECS)
    # Specific before general: the pairs come before their single words.
    words = [w for w, _kind in RULES]
    assert words.index(("security", "monitoring")) < words.index(("security",))
    assert words.index(("zero", "downtime")) < words.index(("downtime",))


def test_sidecar_settings_are_claimed_once_with_their_models() -> None:
    claimed = [(s.key, s) for spec in SPECS for s in spec.settings]
    keys = [key for key, _s in claimed]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(CheckSettings.model_fields)
    for key, settings in claimed:
        annotation = CheckSettings.model_fields[key].annotation
        if settings.many:
            assert typing.get_origin(annotation) is list, key
            assert typing.get_args(annotation) == (settings.model,), key
        else:
            assert annotation is settings.model, key


def test_every_gate_names_a_task_callable_its_arguments_fit() -> None:
    for spec in SPECS:
        for gate in spec.gates:
            callable_ = task_callable(gate.task)
            inspect.signature(callable_).bind(contract_path="x.md", **gate.kwargs)
            assert gate.callable_name == callable_.__name__
            if gate.task == MEASURED_GATE_TASK:
                assert spec.measure is not None, spec.kind
            if gate.runs is GateRuns.WHEN_BOUND:
                assert gate.phase in spec.phases, (spec.kind, gate.task_id)


def test_gate_task_ids_are_unique_within_a_phase() -> None:
    for phase in CheckPhase:
        ids = [gate.task_id for _spec, gate in gates_in(phase)]
        assert len(ids) == len(set(ids)), phase


def test_gates_of_a_phase_come_in_registration_order() -> None:
    pre = [gate.task_id for _spec, gate in gates_in(CheckPhase.PRE_SWITCH)]
    post = [gate.task_id for _spec, gate in gates_in(CheckPhase.POST_SWITCH)]
    assert pre == [
        "health_via_preview",
        "performance",
        "security",
        "accessibility",
        "smoke",
        "data_integrity",
        "static_assets",
    ]
    assert post == [
        "health_via_live",
        "smoke_via_live",
        "data_integrity",
        "rollback_readiness",
        "observability",
    ]


def test_a_gate_task_must_be_a_function_of_the_task_layer() -> None:
    with pytest.raises(ValueError, match="must be 'handoff\\.tasks"):
        task_callable("os:system")
    with pytest.raises(ValueError, match="names no function"):
        task_callable("handoff.tasks.check_gates:DEPLOY_TASK")


def test_when_a_gate_is_in_the_dag() -> None:
    seed = load_handoff(SEED)
    assert seed.acceptance is not None
    by_task = {(gate.phase, gate.task_id): gate for spec in SPECS for gate in spec.gates}
    health = by_task[(CheckPhase.PRE_SWITCH, "health_via_preview")]
    performance = by_task[(CheckPhase.PRE_SWITCH, "performance")]
    command = by_task[(CheckPhase.PRE_SWITCH, "data_integrity")]
    assert health.in_dag(seed.acceptance, bound=False)
    assert performance.in_dag(seed.acceptance, bound=True)
    assert not performance.in_dag(seed.acceptance, bound=False)
    assert not command.in_dag(seed.acceptance, bound=True)  # the seed sets no command
    assets = by_task[(CheckPhase.PRE_SWITCH, "static_assets")]
    assert assets.in_dag(seed.acceptance, bound=False)  # the seed lists /static/app.css
    bare = seed.acceptance.model_copy(
        update={
            "checks": seed.acceptance.checks.model_copy(
                update={"dependencies": DependencySettings()}
            )
        }
    )
    assert not assets.in_dag(bare, bound=True)
