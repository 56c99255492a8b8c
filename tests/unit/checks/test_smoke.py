"""Smoke journey decisions: status, expected text, stop at the first failing step."""

from __future__ import annotations

from handoff.checks.http import Exchange
from handoff.checks.smoke import Step, run_journey, step_problem
from handoff.evidence import EvidenceStatus

HOME = Step("GET", "/", (200,), "dashboard")
SAVE = Step("POST", "/api/records", (200, 201), None, {"key": "k"})


def test_step_problems() -> None:
    assert step_problem(HOME, Exchange(200, 0.01, text="<title>dashboard</title>")) is None
    assert step_problem(HOME, Exchange(503, 0.01)) == "HTTP 503, expected 200"
    assert step_problem(SAVE, Exchange(500, 0.01)) == "HTTP 500, expected 200 or 201"
    assert step_problem(HOME, Exchange(200, 0.01, text="overview")) == (
        "text 'dashboard' not found in 8 characters"
    )
    assert step_problem(HOME, Exchange(0, 1.0, error="refused")) == "no answer (refused)"


def test_journey_passes_when_every_step_answers_as_expected() -> None:
    sent: list[Step] = []

    def send(step: Step) -> Exchange:
        sent.append(step)
        return Exchange(201 if step.method == "POST" else 200, 0.002, text="dashboard")

    finding = run_journey("save a preference", [HOME, SAVE], send, "preview")
    assert finding.status is EvidenceStatus.PASSED
    assert finding.summary == "journey 'save a preference' via preview: 2 of 2 steps as expected"
    assert sent == [HOME, SAVE]
    assert [s["status"] for s in finding.measured["steps"]] == [200, 201]


def test_journey_stops_at_the_first_failing_step() -> None:
    sent: list[Step] = []

    def send(step: Step) -> Exchange:
        sent.append(step)
        return Exchange(200, 0.002, text="overview")

    finding = run_journey("open", [HOME, SAVE], send, "live")
    assert finding.failed
    assert finding.summary == (
        "journey 'open' via live: step 1 GET /: text 'dashboard' not found in 8 characters"
    )
    assert sent == [HOME]
