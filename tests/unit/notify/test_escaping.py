"""Values in Slack messages are text: mentions, links and markup in them are escaped.

Contract fields, the trigger form's release and emergency reason, and exception text (which
carries container log lines) reach every builder; Slack must receive `&lt;!channel&gt;`,
never `<!channel>`, and the only links are the project's own run and log URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from handoff.notify import messages
from handoff.notify.messages import Message, RunRef
from tests.support.poisoned import MRKDWN_PAYLOADS

BASE_URL = "http://af:8080"
REF = RunRef("PROD-1", "handoff_prod_1", "manual__2026-11-28T09:00+00:00", BASE_URL)
AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
EVIL = " ".join(MRKDWN_PAYLOADS)
# A link or mention: `<` then anything up to `>`, as Slack parses them.
_ANGLE = re.compile(r"<([^<>]*)>")


def builders(value: str) -> Iterator[Callable[[], Message]]:
    """Yield every message builder with ``value`` in each of its text arguments."""
    yield lambda: messages.notice(
        REF,
        service=value,
        release=value,
        deploy_at=AT,
        lead=value,
        sender=value,
        owners=[value, value],
        objective=value,
    )
    yield lambda: messages.emergency_override(
        REF, release=value, deploy_at=AT, reason=value, given=value, lead=value
    )
    yield lambda: messages.deploy_started(REF, service=value, release=value)
    yield lambda: messages.phase(REF, step="x", title=value, detail=value)
    yield lambda: messages.switch_done(
        REF, release=value, from_colour=value, to_colour=value, seconds=1, requests=2, failed=0
    )
    yield lambda: messages.all_clear(REF, release=value, watched=value)
    yield lambda: messages.validation_passed(REF, release=value)
    yield lambda: messages.handover_complete(REF, release=value, retired=value)
    yield lambda: messages.escalation(
        REF, task_id="deploy.start_release", try_number=1, reason=value, consequence=value
    )
    yield lambda: messages.rollback_started(REF, release=value, to_release=value)
    yield lambda: messages.rollback_finished(
        REF, restored=value, seconds=1.0, target=value, met=False
    )
    yield lambda: messages.aborted(REF, release=value, live=value)


def texts(payload: dict[str, Any]) -> list[str]:
    """Return every text Slack reads in a webhook body: the fallback and each text object."""
    found = [payload["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(payload["blocks"])
    return found


def assert_inert(message: Message) -> None:
    """Assert that no value made a mention or a link: every `<...>` is the project's link."""
    payload = message.payload()
    for text in texts(payload):
        for inside in _ANGLE.findall(text):
            assert inside.startswith(f"{BASE_URL}/dags/handoff_prod_1/runs/"), (text, inside)
            assert inside.count("|") == 1, inside
    for block in payload["blocks"]:
        for item in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(item, dict) and item.get("type") == "mrkdwn":
                assert item["verbatim"] is True  # Slack does not auto-link a bare URL


@pytest.mark.parametrize("index", range(12))
def test_every_builder_escapes_mentions_and_links(index: int) -> None:
    message = list(builders(EVIL))[index]()
    assert_inert(message)
    body = json.dumps(message.payload())
    assert "&lt;!channel&gt;" in body and "&lt;!here&gt;" in body
    assert "&lt;https://evil.example|Approve here&gt;" in body
    assert "<!channel>" not in body and "<https://evil.example" not in body
    assert "a &amp; b &gt; c" in body


def test_escaping_is_slacks_rule_and_nothing_more() -> None:
    assert messages.mrkdwn("<!here> & *bold* `x`") == "&lt;!here&gt; &amp; *bold* `x`"
    assert messages.mrkdwn("&amp;") == "&amp;amp;"  # written as is, shown as written


def test_the_project_links_still_work() -> None:
    message = messages.escalation(
        REF, task_id="deploy.start_release", try_number=2, reason="x", consequence="y"
    )
    body = message.blocks[1]["text"]["text"]
    assert f"<{REF.task_url('deploy.start_release', 2)}|deploy.start_release, try 2>" in body
    assert f"<{REF.run_url}|open the run in Airflow>" in message.blocks[-1]["elements"][0]["text"]


def test_a_run_id_cannot_break_out_of_the_link() -> None:
    ref = RunRef("PROD-1", "handoff_prod_1", "x|<!channel>>y", BASE_URL)
    message = messages.aborted(ref, release="r", live="l")
    context = message.blocks[-1]["elements"][0]["text"]
    assert "<!channel>" not in context and "&lt;!channel&gt;" in context


def test_log_lines_in_a_reason_are_clipped() -> None:
    line = "<!channel> " + "x" * 5000
    reason = "deploy failed: container exited\n" + "\n".join([line] * 200)
    message = messages.escalation(
        REF, task_id="deploy.start_release", try_number=1, reason=reason, consequence="abort"
    )
    body = message.blocks[1]["text"]["text"]
    assert len(body) <= 3000
    assert "deploy failed: container exited" in body
    clipped = messages.clip_log(reason)
    assert all(len(kept) <= messages.MAX_LOG_LINE for kept in clipped.splitlines())
    assert len(clipped.splitlines()) == messages.MAX_LOG_LINES + 1
    assert clipped.endswith(f"… {201 - messages.MAX_LOG_LINES} more lines in the task log")
    assert "<!channel>" not in json.dumps(message.payload())
