"""Expand before the deploy, against a scripted migration command: kept, undone or escalated."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from handoff.acceptance.sidecar import MigrationSettings
from handoff.checks import Finding
from handoff.evidence import EvidenceStatus
from handoff.target.models import Colour, CommandResult
from handoff.tasks.migrations import (
    ContractFailed,
    ExpandFailed,
    rollback_schema,
    run_contract,
    run_expand,
)
from tests.support.fake_target import FakeTarget

SETTINGS = MigrationSettings.model_validate({"command": ["/opt/demo/migrate.py"]})
STEP = {"file": "0002_origin.sql", "version": 2, "phase": "expand", "down": True}


def _out(*lines: tuple[str, dict[str, object]]) -> tuple[str, ...]:
    return tuple(f"{kind} {json.dumps(value)}" for kind, value in lines)


@dataclass
class Scripted(FakeTarget):
    """The migration command's answers, by subcommand, in the order they are asked."""

    answers: dict[str, list[tuple[int, tuple[str, ...]]]] = field(default_factory=dict)
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def run_release(self, release: str, argv: Sequence[str], timeout_s: float) -> CommandResult:
        args = tuple(argv[1:])
        self.asked.append(args)
        code, output = self.answers[args[0]].pop(0)
        return CommandResult(tuple(argv), release, "none", code, 0.1, output)


def _target(step: dict[str, object] = STEP, down_code: int = 0) -> Scripted:
    target = Scripted().running(Colour.BLUE, "shop:1", live=True)
    assert isinstance(target, Scripted)
    target.answers = {
        "status": [(0, _out(("database", {"reachable": True, "version": 1}), ("pending", step)))],
        "apply": [(0, _out(("applied", step), ("database", {"version": 2})))],
        "down": [(down_code, _out(("undone", step), ("database", {"version": 1})))],
    }
    return target


def _journeys(status: EvidenceStatus) -> list[Finding]:
    return [Finding(status, "journey 'save' via live: step 1 POST /api/records: 500")]


def test_an_expand_the_old_colour_survives_is_kept() -> None:
    target = _target()
    kept = run_expand(target, "shop:2", SETTINGS, lambda: _journeys(EvidenceStatus.PASSED))
    assert kept.applied == ("0002_origin.sql",) and kept.version == 2
    assert kept.old_release == "shop:1"
    assert target.asked == [("status",), ("apply", "expand")]


def test_an_expand_that_breaks_the_old_colour_is_undone() -> None:
    target = _target()
    with pytest.raises(
        ExpandFailed, match=r"old colour \(shop:1\).*undone: 0002; schema back at version 1$"
    ):
        run_expand(target, "shop:2", SETTINGS, lambda: _journeys(EvidenceStatus.FAILED))
    assert target.asked[-1] == ("down", "2")


def test_a_step_without_down_escalates_naming_the_schema_state() -> None:
    target = _target({**STEP, "down": False})
    with pytest.raises(
        ExpandFailed,
        match=r"nothing undone; 0002_origin.sql has no down step, so the schema stays at "
        r"version 2: escalate",
    ):
        run_expand(target, "shop:2", SETTINGS, lambda: _journeys(EvidenceStatus.FAILED))
    assert ("down", "2") not in target.asked


def test_a_failed_undo_escalates() -> None:
    target = _target(down_code=1)
    with pytest.raises(ExpandFailed, match=r"undoing 0002 failed \(exit 1\); schema at version 1"):
        run_expand(target, "shop:2", SETTINGS, lambda: _journeys(EvidenceStatus.FAILED))


def test_a_refused_plan_applies_nothing() -> None:
    target = _target({**STEP, "phase": "sideways"})
    with pytest.raises(ExpandFailed, match=r"0002_origin.sql: phase: expected expand or contract"):
        run_expand(target, "shop:2", SETTINGS, lambda: _journeys(EvidenceStatus.PASSED))
    assert target.asked == [("status",)]


CONTRACT = {"file": "0003_drop_release.sql", "version": 3, "phase": "contract", "completes": 2,
            "completes_phase": "expand"}  # fmt: skip


def _contract_target(*, old_running: bool, apply_code: int = 0) -> Scripted:
    target = Scripted().running(Colour.GREEN, "shop:2", live=True)
    if old_running:
        target.running(Colour.BLUE, "shop:1")
    assert isinstance(target, Scripted)
    target.answers = {
        "status": [
            (0, _out(("database", {"reachable": True, "version": 2}), ("pending", CONTRACT)))
        ],
        "apply": [(apply_code, _out(("applied", CONTRACT), ("database", {"version": 3})))],
    }
    return target


def test_the_contract_runs_only_when_no_other_colour_runs() -> None:
    target = _contract_target(old_running=True)
    with pytest.raises(ContractFailed, match=r"blue \(shop:1\) still runs beside live"):
        run_contract(target, "shop:2", SETTINGS)
    assert target.asked == []  # nothing asked, nothing applied
    done = run_contract(_contract_target(old_running=False), "shop:2", SETTINGS)
    assert done.applied == ("0003_drop_release.sql",) and done.version == 3


def test_a_failed_contract_names_the_schema_state() -> None:
    with pytest.raises(ContractFailed, match=r"exited 1 .*schema at version 3: escalate"):
        run_contract(_contract_target(old_running=False, apply_code=1), "shop:2", SETTINGS)


def _old_sees(*unknown: int, code: int = 0, reachable: bool = True) -> Scripted:
    target = Scripted().running(Colour.BLUE, "shop:1")
    assert isinstance(target, Scripted)
    lines = [("database", {"reachable": reachable, "version": 3 if unknown else 1,
                           "release_version": 1})]  # fmt: skip
    lines += [("unknown-applied", {"version": v}) for v in unknown]
    target.answers = {"status": [(code, _out(*lines))]}
    return target


def test_a_rollback_goes_ahead_on_this_runs_expand_only() -> None:
    ahead = rollback_schema(_old_sees(2), "shop:1", SETTINGS, expanded=[2])
    assert ahead.allowed and "expand 0002, proven against it" in ahead.reason
    assert ahead.to_json()["decision"] == "went ahead"
    assert rollback_schema(_old_sees(), "shop:1", SETTINGS, expanded=[]).allowed


def test_a_rollback_is_refused_after_a_step_the_old_release_does_not_ship() -> None:
    refused = rollback_schema(_old_sees(2, 3), "shop:1", SETTINGS, expanded=[2])
    assert not refused.allowed and refused.to_json()["decision"] == "refused"
    assert refused.reason.startswith("the database ran 0003, which shop:1 does not ship")
    # An expand from an earlier run was never proven against this old colour by this run.
    assert not rollback_schema(_old_sees(2), "shop:1", SETTINGS, expanded=[]).allowed
    unreadable = rollback_schema(_old_sees(code=1, reachable=False), "shop:1", SETTINGS, [])
    assert not unreadable.allowed and "schema it would serve is unknown" in unreadable.reason
