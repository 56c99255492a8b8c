"""Block Kit messages of the communication plan: identity, links and content."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from handoff.notify import messages
from handoff.notify.messages import Event, Message, RunRef

REF = RunRef(
    "PROD-DEPLOYMENT-001",
    "handoff_prod_deployment_001",
    "manual__2026-11-28T09:00+00:00",
    "http://af:8080/",
)
AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def all_messages() -> list[Message]:
    return [
        messages.notice(
            REF,
            service="ux-portal",
            release="ux:2.0",
            deploy_at=AT,
            lead="24 h",
            sender="SPARC SRE Engineer",
            owners=["Operations Team"],
            objective="Ship the UX release.",
        ),
        messages.emergency_override(
            REF, release="ux:2.0", deploy_at=AT, reason="CVE fix", given="10 min", lead="24 h"
        ),
        messages.deploy_started(REF, service="ux-portal", release="ux:2.0"),
        messages.phase(REF, step="pre_switch_gates", title="gates passed", detail="all green"),
        messages.switch_done(
            REF,
            release="ux:2.0",
            from_colour="blue",
            to_colour="green",
            seconds=0.4,
            requests=120,
            failed=0,
        ),
        messages.all_clear(REF, release="ux:2.0", watched="1 h"),
        messages.validation_passed(REF, release="ux:2.0"),
        messages.handover_complete(REF, release="ux:2.0", retired="blue (ux:1.0)"),
        messages.escalation(
            REF,
            task_id="validation_period.watch",
            try_number=1,
            reason="error rate 100 % > 1 %",
            consequence="rollback",
        ),
        messages.rollback_started(REF, release="ux:2.0", to_release="ux:1.0"),
        messages.rollback_finished(
            REF, restored="ux:1.0", seconds=1.234, target="at most 30 min", met=True
        ),
        messages.aborted(REF, release="ux:2.0", live="blue (ux:1.0)"),
    ]


def test_every_event_has_a_builder() -> None:
    assert {m.event for m in all_messages()} == set(Event)


@pytest.mark.parametrize("message", all_messages(), ids=lambda m: m.event.name)
def test_every_message_carries_handoff_run_and_link(message: Message) -> None:
    payload = message.payload()
    assert set(payload) == {"text", "blocks"}
    json.dumps(payload)  # a webhook body
    body = json.dumps(payload["blocks"])
    run_url = (
        "http://af:8080/dags/handoff_prod_deployment_001/runs/manual__2026-11-28T09%3A00%2B00%3A00"
    )
    for needle in ("PROD-DEPLOYMENT-001", "manual__2026-11-28T09:00+00:00", run_url):
        assert needle in payload["text"] and needle in body
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][-1]["type"] == "context"


def test_notice_says_what_when_who_and_how_to_object() -> None:
    text = json.dumps(all_messages()[0].payload())
    for needle in ("ux:2.0", "2026-11-28 09:00 UTC", "Operations Team", "How to object", "24 h"):
        assert needle in text


def test_escalation_names_the_step_the_reason_and_the_log() -> None:
    message = all_messages()[8]
    text = json.dumps(message.payload())
    assert message.step == "validation_period.watch#1"
    assert "error rate 100 % &gt; 1 %" in text  # escaped, as Slack asks
    assert "/tasks/validation_period.watch?try_number=1" in text


def test_rollback_finished_says_how_long_restoring_service_took() -> None:
    text = json.dumps(all_messages()[10].payload())
    assert "1.23 s" in text and "met" in text


def test_emergency_override_gives_the_reason() -> None:
    assert "CVE fix" in all_messages()[1].text


def test_long_text_is_clipped_to_what_slack_accepts() -> None:
    message = messages.phase(REF, step="x", title="t", detail="y" * 5000)
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if b["type"] == "section")
    assert len(message.text) <= 3000
