"""Data integrity: the sidecar's settings, their located errors, and the decisions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from handoff.acceptance.sidecar import DataIntegritySettings, WriteProbe
from handoff.catalog import load_handoff
from handoff.checks import Finding
from handoff.checks.integrity import (
    CommandRun,
    command_finding,
    invariants_finding,
    invariants_of,
    not_verified_finding,
    store_finding,
    unusable_finding,
    with_invariants,
)
from handoff.evidence import EvidenceStatus
from handoff.plan.bindings import missing_settings
from handoff.plan.model import CheckKind
from handoff.tasks.data_integrity import findings_after, live_probe
from tests.support.handoffs import make_handoffs


def test_default_checks_nothing_and_lint_says_so(tmp_path: Path) -> None:
    settings = DataIntegritySettings()
    assert (settings.write_probe, settings.command, settings.timeout) == (
        WriteProbe.NONE,
        None,
        timedelta(minutes=2),
    )
    assert not settings.verified
    folder = make_handoffs(tmp_path, ["NONE"], sidecar_edits={"    write_probe: store_api\n": ""})
    handoff = load_handoff(folder / "NONE.md")
    assert handoff.deployable and handoff.acceptance
    assert "will be reported not verified" in missing_settings(
        CheckKind.DATA_INTEGRITY, handoff.acceptance
    )
    # Without a store probe the switch only reads the health path, and nothing runs after it
    # (so no engine is needed): the criterion is "not verified", never passed.
    spec = live_probe(handoff, "127.0.0.1", 8080)
    assert (spec.write_every, spec.read_paths) == (0, ("/health",))
    (finding,) = findings_after(handoff, None, "switch", set(), None)  # type: ignore[arg-type]
    assert finding.status is EvidenceStatus.NOT_VERIFIED


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("/opt/check --all", "never run by a shell"),
        ([], "at least the program"),
        (["", "--all"], "the program (first argument) is empty"),
        (["check", 3], "valid string"),
        (["check"] * 33, "at most 32"),
        (["check", "x" * 513], "argument 1 has 513 characters"),
        (["check", "a\x00b"], "NUL"),
    ],
)
def test_command_must_be_a_bounded_argv(command: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataIntegritySettings(command=command)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", ["0s", "2 hours"])
def test_timeout_is_bounded(timeout: str) -> None:
    with pytest.raises(ValidationError, match="between 1 second and 1 hour"):
        DataIntegritySettings(timeout=timeout)  # type: ignore[arg-type]


def test_shell_string_in_a_sidecar_is_located(tmp_path: Path) -> None:
    folder = make_handoffs(
        tmp_path, ["SHELL"], sidecar_edits={"command: null": "command: check.sh && echo ok"}
    )
    handoff = load_handoff(folder / "SHELL.md")
    sidecar = folder / "SHELL.deploy.yaml"
    line = next(
        i for i, text in enumerate(sidecar.read_text().splitlines(), 1) if "check.sh" in text
    )
    rendered = "\n".join(d.render() for d in handoff.diagnostics if d.is_error)
    assert f"{sidecar}:{line}: error:" in rendered
    assert "checks.data_integrity.command" in rendered and "never run by a shell" in rendered
    assert not handoff.deployable


def run(exit_code: int | None, output: tuple[str, ...] = ("store ok",)) -> CommandRun:
    return CommandRun(("/opt/check", "--all"), "app:2.0", "green", exit_code, 1.25, output)


def test_command_decision_exit_zero_passes_anything_else_fails() -> None:
    passed = command_finding("switch", run(0), 120.0)
    assert passed.status is EvidenceStatus.PASSED
    assert passed.summary == (
        "integrity command after the switch (/opt/check --all) in green (app:2.0): "
        "exit 0 in 1.2 s; last line: store ok"
    )
    assert passed.measured["exit_code"] == 0 and passed.thresholds == {
        "exit_code": 0,
        "timeout_s": 120.0,
    }
    failed = command_finding("rollback", run(1, ("bad record 3", "1 problem")), 120.0)
    assert failed.failed and "exit 1" in failed.summary and "last line: 1 problem" in failed.summary
    assert failed.measured["output"] == ["bad record 3", "1 problem"]
    killed = command_finding("switch", run(None, ()), 2.0)
    assert killed.failed and killed.measured["timed_out"] is True
    assert "killed after 1.2 s (timeout 2 s); last line: (no output)" in killed.summary


def test_store_unusable_and_unchecked_decisions() -> None:
    lost = store_finding("switch", {"a", "b", "c"}, {"a"}, 1)
    assert lost.failed and lost.measured["missing"] == 2
    shrank = store_finding("rollback", set(), {"a"}, 5)
    assert shrank.failed and "store shrank from 5 to 1 records" in shrank.summary
    assert store_finding("switch", {"a"}, {"a", "b"}, 1).status is EvidenceStatus.PASSED
    unusable = unusable_finding("switch", ["/opt/check"], "not in the image", 120.0)
    assert unusable.failed and unusable.summary.endswith("could not be run: not in the image")
    unchecked = not_verified_finding("rollback")
    assert unchecked.status is EvidenceStatus.NOT_VERIFIED
    assert "checks.data_integrity.command" in unchecked.summary


def test_store_invariants_hold_when_the_records_of_before_are_all_there() -> None:
    before = invariants_of([(1, "a"), (2, "b"), (3, "c")])
    assert before["count"] == 3 and before["highest_id"] == 3
    after = [(1, "a"), (2, "b"), (3, "c"), (4, "w1"), (5, "w2")]
    held = invariants_finding("rollback", before, after, acknowledged=2)
    assert held.status is EvidenceStatus.PASSED, held.summary
    assert "3 records before" in held.summary and "5 records after" in held.summary


def held_ok() -> Finding:
    before = invariants_of([(1, "a")])
    return invariants_finding("switch", before, [(1, "a"), (2, "w")], acknowledged=1)


def test_store_invariants_catch_a_lost_or_changed_record_and_too_few_writes() -> None:
    before = invariants_of([(1, "a"), (2, "b"), (3, "c")])
    lost = invariants_finding("switch", before, [(1, "a"), (3, "c"), (4, "w1")], acknowledged=1)
    assert lost.status is EvidenceStatus.FAILED and "are now 2" in lost.summary
    changed = invariants_finding("switch", before, [(1, "a"), (2, "B"), (3, "c")], 0)
    assert changed.failed and "another checksum" in changed.summary
    short = invariants_finding("switch", before, [(1, "a"), (2, "b"), (3, "c"), (4, "w")], 2)
    assert short.failed and "fewer than 3 + 2" in short.summary
    unlisted = invariants_finding("switch", before, None, 0)
    assert unlisted.failed and "could not be listed" in unlisted.summary
    # Folded into the store probe's one record: it fails when either part failed.
    store = store_finding("switch", {"w"}, {"a", "b", "c", "w"}, 3)
    merged = with_invariants(store, lost)
    assert merged.failed and merged.measured["missing"] == 0
    assert merged.measured["invariants"]["count_after"] == 3
    assert not with_invariants(store, held_ok()).failed
