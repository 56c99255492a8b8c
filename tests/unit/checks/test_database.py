"""The database check's rules: phases, contract steps completing an expand, the report read back."""

from __future__ import annotations

import json

from handoff.checks.database import (
    Pending,
    SchemaStatus,
    judge_database,
    plan,
    read_status,
)
from handoff.evidence.model import EvidenceStatus


def _line(kind: str, **value: object) -> str:
    return f"{kind} {json.dumps(value)}"


def _status(*pending: Pending, version: int = 1) -> SchemaStatus:
    return SchemaStatus(True, version, 3, pending)


EXPAND = Pending("0002_origin.sql", 2, "expand", down=True)
CONTRACT = Pending("0003_drop_release.sql", 3, "contract", completes=2, completes_phase="expand")


def test_expand_runs_before_deploy_and_contract_after_handover() -> None:
    found = plan(_status(EXPAND, CONTRACT))
    assert found.ok
    assert [p.file for p in found.expand] == ["0002_origin.sql"]
    assert [p.file for p in found.contract] == ["0003_drop_release.sql"]


def test_an_unknown_phase_is_refused_naming_the_file_and_the_field() -> None:
    bad = Pending("0002_origin.sql", 2, "expnad")
    assert plan(_status(bad)).problems == (
        "0002_origin.sql: phase: expected expand or contract, found 'expnad'",
    )
    missing = Pending("0002_origin.sql", 2, "")
    assert "found nothing (no '-- phase:' line)" in plan(_status(missing)).problems[0]


def test_a_contract_step_naming_no_expand_is_refused() -> None:
    alone = Pending("0002_drop.sql", 2, "contract")
    (problem,) = plan(_status(alone)).problems
    assert problem.startswith("0002_drop.sql: completes: a contract step has no expand before it")


def test_a_contract_step_must_complete_an_earlier_expand() -> None:
    later = Pending("0002_drop.sql", 2, "contract", completes=3, completes_phase="expand")
    assert "not before it" in plan(_status(later)).problems[0]
    of_contract = Pending("0004_x.sql", 4, "contract", completes=3, completes_phase="contract")
    assert (
        "names 0003, a contract step, not an expand step" in plan(_status(of_contract)).problems[0]
    )
    unknown = Pending("0004_x.sql", 4, "contract", completes=1, completes_phase="")
    assert "no step this release ships" in plan(_status(unknown)).problems[0]


def test_an_expand_pending_after_a_contract_cannot_keep_the_order() -> None:
    late = Pending("0004_more.sql", 4, "expand")
    (problem,) = plan(_status(EXPAND, CONTRACT, late)).problems
    assert problem.startswith("0004_more.sql: phase: an expand step after the contract step 0003")


def test_a_newer_schema_or_an_edited_step_is_refused() -> None:
    found = plan(SchemaStatus(True, 4, 3, (), unknown_applied=(4,), changed=("0002_origin.sql",)))
    assert found.problems == (
        "the database ran step 0004, which this release does not ship (an older release on a "
        "newer schema)",
        "0002_origin.sql: changed since the database ran it",
    )


def test_the_command_report_is_read_back_in_version_order() -> None:
    lines = [
        "lock {}",  # other kinds are log, not report
        _line("database", reachable=True, version=1, applied=1, release_version=3),
        _line(
            "pending",
            file="0003_drop_release.sql",
            version=3,
            phase="contract",
            down=False,
            completes=2,
            completes_phase="expand",
        ),
        _line("pending", file="0002_origin.sql", version=2, phase="expand", down=True),
        "not json at all",
    ]
    status = read_status(lines)
    assert status == SchemaStatus(True, 1, 3, (EXPAND, CONTRACT))


def test_an_unreachable_database_fails_with_the_reason() -> None:
    status = read_status([_line("database", reachable=False, error="could not connect")])
    finding = judge_database(status, 1)
    assert finding.status is EvidenceStatus.FAILED
    assert finding.summary.startswith("database not reachable; schema version 0")
    assert "refused: database not reachable: could not connect" in finding.summary


def test_the_finding_lists_version_and_pending_with_phases() -> None:
    finding = judge_database(_status(EXPAND, CONTRACT), 0)
    assert finding.status is EvidenceStatus.PASSED
    assert finding.summary == (
        "database reachable; schema version 1 (release ships up to 3); pending: "
        "0002_origin.sql (expand, down step), 0003_drop_release.sql (contract, completes 0002)"
    )
    assert finding.measured["expand_before_deploy"] == ["0002_origin.sql"]
    assert finding.measured["contract_after_handover"] == ["0003_drop_release.sql"]


def test_a_killed_or_failed_command_is_a_failure_even_with_a_clean_report() -> None:
    assert judge_database(_status(), None).failed
    assert "exited 1" in judge_database(_status(), 1).summary
    located = read_status([_line("error", file="2_bad.sql", field="name")])
    assert "2_bad.sql: name: refused" in judge_database(located, 1).summary


def test_an_undo_runs_newest_first_and_stops_at_a_step_without_down() -> None:
    from handoff.checks.database import Undo, undo_of

    first = Pending("0002_a.sql", 2, "expand", down=True)
    second = Pending("0003_b.sql", 3, "expand", down=True)
    assert undo_of([first, second]) == Undo((3, 2))
    stuck = Pending("0003_b.sql", 3, "expand", down=False)
    assert undo_of([first, stuck]) == Undo((), "0003_b.sql")


def test_applied_steps_and_the_last_version_are_read_back() -> None:
    from handoff.checks.database import steps_reported, version_reported

    lines = [
        _line("lock", held=True),
        _line("applied", file="0002_origin.sql", version=2, phase="expand", down=True),
        _line("database", version=2),
    ]
    assert steps_reported(lines, "applied") == (EXPAND,)
    assert version_reported(lines) == 2 and version_reported(["lock {}"]) is None
