"""Decide the data-integrity criterion after a switch or a rollback (no Docker, no Airflow).

Two independent proofs, each chosen in the sidecar's ``checks.data_integrity``: the store
probe (every write acknowledged while traffic moved is listed afterwards, the store did not
shrink, and its invariants, row count and a checksum of the records there before, hold)
and the integrity command (a program shipped in the release image; exit 0 means intact).
Each gives its findings; with neither the criterion is "not verified", never passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from handoff.acceptance.sidecar import Acceptance, DataIntegritySettings
from handoff.checks.finding import Finding
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, GateRuns, Rule, SidecarSettings, needs
from handoff.evidence.model import EvidenceStatus

# What one run of the integrity command did, as the deployment target reports it.
from handoff.target.models import CommandResult as CommandRun

#: The sidecar field a user edits when the command is wrong; errors name it.
COMMAND_FIELD = "checks.data_integrity.command"


def store_finding(
    when: str, acknowledged: set[str], stored: set[str] | None, stored_before: int | None
) -> Finding:
    """Decide the store probe: every acknowledged write stored, and the store did not shrink."""
    thresholds = {"missing": 0, "stored_after": f">= {stored_before}"}
    if stored is None:
        return Finding(
            EvidenceStatus.FAILED,
            f"{len(acknowledged)} writes acknowledged during the {when}; the store could not "
            f"be listed through live afterwards",
            {"acknowledged": len(acknowledged), "stored_after": None},
            thresholds,
        )
    missing = sorted(acknowledged - stored)
    shrank = stored_before is not None and len(stored) < stored_before
    problems = []
    if missing:
        problems.append(f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}")
    if shrank:
        problems.append(f"store shrank from {stored_before} to {len(stored)} records")
    before = "unknown" if stored_before is None else stored_before
    summary = (
        f"{len(acknowledged)} writes acknowledged during the {when}, {len(missing)} missing; "
        f"{len(stored)} records stored (before: {before})"
    )
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        summary + (f": {'; '.join(problems)}" if problems else ""),
        {
            "acknowledged": len(acknowledged),
            "missing": len(missing),
            "missing_examples": missing[:5],
            "stored_before": stored_before,
            "stored_after": len(stored),
        },
        thresholds,
    )


def invariants_of(records: Sequence[tuple[int, str]]) -> dict[str, Any]:
    """Return the store's invariants: row count, highest id, a checksum of every (id, key).

    The checksum is a sha256 over the records in id order, so a record lost, changed or
    renumbered changes it; the store API lists (id, key) for every store the demo has.
    """
    digest = hashlib.sha256()
    for record_id, key in sorted(records):
        digest.update(f"{record_id}\t{key}\n".encode())
    return {
        "count": len(records),
        "highest_id": max((i for i, _ in records), default=0),
        "checksum": digest.hexdigest(),
    }


def invariants_finding(
    when: str,
    before: Mapping[str, Any],
    after: Sequence[tuple[int, str]] | None,
    acknowledged: int,
) -> Finding:
    """Judge the invariants after a switch or rollback against those taken just before.

    The records up to the highest id before must be exactly those of before (same count and
    checksum), and the store holds at least as many more as writes were acknowledged. A write
    still uncommitted below that id when the snapshot was taken shows as a mismatch, never as
    a pass: the check errs on the side of failing.
    """
    thresholds = {"count_of_before": before.get("count"), "checksum_of_before": "equal",
                  "count_after": f">= before + {acknowledged} acknowledged"}  # fmt: skip
    if after is None:
        return Finding(
            EvidenceStatus.FAILED,
            f"store invariants after the {when}: the store could not be listed through live",
            {"before": dict(before)},
            thresholds,
        )
    kept = invariants_of([r for r in after if r[0] <= int(before.get("highest_id") or 0)])
    total = len(after)
    problems = []
    if kept["count"] != before.get("count") or kept["checksum"] != before.get("checksum"):
        problems.append(
            f"the {before.get('count')} records of before are now {kept['count']} with "
            f"{'the same' if kept['checksum'] == before.get('checksum') else 'another'} checksum"
        )
    if total < int(before.get("count") or 0) + acknowledged:
        problems.append(f"{total} records, fewer than {before.get('count')} + {acknowledged}")
    summary = (
        f"store invariants after the {when}: {before.get('count')} records before "
        f"(checksum {str(before.get('checksum'))[:12]}), "
        f"{'unchanged' if not problems else 'CHANGED'}; {total} records after "
        f"({acknowledged} writes acknowledged)"
    )
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        summary + (f": {'; '.join(problems)}" if problems else ""),
        {"before": dict(before), "of_before_after": kept, "count_after": total},
        thresholds,
    )


def with_invariants(store: Finding, invariants: Finding) -> Finding:
    """Return the store probe's finding with the invariants' judgement folded in (one record).

    One record per proof, as before the invariants: the store probe's record carries them
    under ``invariants``, and fails when either part failed.
    """
    failed = store.failed or invariants.failed
    return Finding(
        EvidenceStatus.FAILED if failed else store.status,
        f"{store.summary}; {invariants.summary}",
        {**store.measured, "invariants": invariants.measured},
        {**store.thresholds, "invariants": invariants.thresholds},
    )


def command_finding(when: str, run: CommandRun, timeout_s: float) -> Finding:
    """Decide the integrity command: exit 0 within the timeout means the data is intact."""
    program = " ".join(run.argv)
    last = run.output[-1] if run.output else "(no output)"
    if run.timed_out:
        verdict = f"killed after {run.seconds:.1f} s (timeout {timeout_s:g} s)"
    else:
        verdict = f"exit {run.exit_code} in {run.seconds:.1f} s"
    passed = run.exit_code == 0
    return Finding(
        EvidenceStatus.PASSED if passed else EvidenceStatus.FAILED,
        f"integrity command after the {when} ({program}) in {run.colour} ({run.release}): "
        f"{verdict}; last line: {last}",
        {
            "exit_code": run.exit_code,
            "timed_out": run.timed_out,
            "seconds": round(run.seconds, 3),
            "colour": run.colour,
            "release": run.release,
            "output": list(run.output),
        },
        {"exit_code": 0, "timeout_s": timeout_s},
    )


def unusable_finding(when: str, argv: list[str], reason: str, timeout_s: float) -> Finding:
    """Judge a command that could not be run at all: the criterion is not shown to hold."""
    return Finding(
        EvidenceStatus.FAILED,
        f"integrity command after the {when} could not be run: {reason}",
        {"exit_code": None, "error": reason, "argv": argv},
        {"exit_code": 0, "timeout_s": timeout_s},
    )


def not_verified_finding(when: str) -> Finding:
    """Say that nothing judges data integrity: the sidecar chose no probe and no command."""
    return Finding(
        EvidenceStatus.NOT_VERIFIED,
        f"nothing checked data integrity after the {when}: the sidecar sets neither "
        f"checks.data_integrity.write_probe: store_api nor {COMMAND_FIELD}",
        {},
        {},
    )


def _has_command(acceptance: Acceptance) -> bool:
    # Only a command can judge data before the switch (the store probe needs traffic).
    return acceptance.checks.data_integrity.command is not None


SPEC = CheckSpec(
    kind=CheckKind.DATA_INTEGRITY,
    rules=(Rule(230, ("data", "integrity")),),
    phases=(CheckPhase.POST_SWITCH,),
    settings=(SidecarSettings("data_integrity", DataIntegritySettings),),
    missing=needs(
        lambda acceptance: acceptance.checks.data_integrity.verified,
        "neither checks.data_integrity.write_probe: store_api nor an integrity command "
        "in the sidecar",
    ),
    gates=(
        Gate(
            CheckPhase.PRE_SWITCH,
            "data_integrity",
            "handoff.tasks.check_gates:integrity_gate",
            runs=GateRuns.WHEN_CONFIGURED,
            configured=_has_command,
        ),
        # After the switch it always runs: with neither probe nor command it records the
        # criterion "not verified".
        Gate(
            CheckPhase.POST_SWITCH,
            "data_integrity",
            "handoff.tasks.steps:data_integrity",
            runs=GateRuns.ALWAYS,
        ),
    ),
)
