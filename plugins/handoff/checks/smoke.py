"""User acceptance: smoke journeys, HTTP steps with an expected status and text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handoff.acceptance.sidecar import Journey
from handoff.checks.finding import Finding
from handoff.checks.http import Exchange
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, Rule, SidecarSettings, needs
from handoff.evidence.model import EvidenceStatus


@dataclass(frozen=True)
class Step:
    """One step of a journey as the check needs it."""

    method: str
    path: str
    expect_status: tuple[int, ...]
    expect_text: str | None = None
    json_body: dict[str, object] | None = None


def step_problem(step: Step, answer: Exchange) -> str | None:
    """Return why an answer fails its step, or None."""
    if answer.status == 0:
        return f"no answer ({answer.error})"
    if answer.status not in step.expect_status:
        wanted = " or ".join(str(s) for s in step.expect_status)
        return f"HTTP {answer.status}, expected {wanted}"
    if step.expect_text is not None and step.expect_text not in answer.text:
        return f"text {step.expect_text!r} not found in {len(answer.text)} characters"
    return None


def run_journey(
    name: str, steps: Sequence[Step], send: Callable[[Step], Exchange], target: str
) -> Finding:
    """Run a journey's steps in order; stop at the first that fails."""
    done = []
    for number, step in enumerate(steps, start=1):
        answer = send(step)
        problem = step_problem(step, answer)
        done.append(
            {
                "step": number,
                "method": step.method,
                "path": step.path,
                "status": answer.status,
                "ms": round(answer.seconds * 1000, 1),
            }
        )
        if problem:
            return Finding(
                EvidenceStatus.FAILED,
                f"journey {name!r} via {target}: step {number} {step.method} {step.path}: "
                f"{problem}",
                {"journey": name, "steps": done},
                _expectations(steps),
            )
    return Finding(
        EvidenceStatus.PASSED,
        f"journey {name!r} via {target}: {len(steps)} of {len(steps)} steps as expected",
        {"journey": name, "steps": done},
        _expectations(steps),
    )


def _expectations(steps: Sequence[Step]) -> dict[str, object]:
    return {
        "steps": [
            {
                "method": s.method,
                "path": s.path,
                "expect_status": list(s.expect_status),
                "expect_text": s.expect_text,
            }
            for s in steps
        ]
    }


_GATE_TASK = "handoff.tasks.check_gates:smoke_gate"
SPEC = CheckSpec(
    kind=CheckKind.SMOKE,
    rules=(
        Rule(180, ("user", "acceptance")),
        Rule(190, ("smoke",)),
        Rule(200, ("functional",)),
        Rule(210, ("journey",)),
    ),
    phases=(CheckPhase.PRE_SWITCH, CheckPhase.POST_SWITCH),
    settings=(SidecarSettings("journeys", Journey, many=True),),
    missing=needs(
        lambda acceptance: acceptance.checks.journeys, "no smoke journeys in the sidecar"
    ),
    gates=(
        Gate(CheckPhase.PRE_SWITCH, "smoke", _GATE_TASK, (("listener", "preview"),)),
        Gate(CheckPhase.POST_SWITCH, "smoke_via_live", _GATE_TASK, (("listener", "live"),)),
    ),
)
