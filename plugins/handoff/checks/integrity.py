"""Decide the data-integrity criterion after a switch or a rollback (no Docker, no Airflow).

Two independent proofs, each chosen in the sidecar's ``checks.data_integrity``: the store
probe (every write acknowledged while traffic moved is listed afterwards, and the store did
not shrink) and the integrity command (a program shipped in the release image; exit 0 means
intact). Each gives one finding; with neither the criterion is "not verified", never passed.
"""

from __future__ import annotations

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
