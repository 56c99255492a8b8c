"""The messages of a handoff's communication plan, as Slack Block Kit payloads.

Pure Python, no Airflow import: the Airflow-facing layer (`handoff.notify.deliver`) resolves
the run's identity and the UI's base URL and passes them in as a `RunRef`. Every message
carries the handoff id, the run id and a link to the run; `Message.step` together with the
event is the message's identity within a run, used to never send it twice.

Only the project writes markup. Every builder is a pattern written here, filled with values
(contract fields, the trigger form's release and emergency reason, exception text that may
carry container log lines) through `mrkdwn`, which escapes `&`, `<` and `>` as Slack asks: a
value can never become a mention (`<!channel>`), a link (`<https://...|text>`) or a user
reference. The only links are the project's own run and log URLs, and text objects are
`verbatim` so Slack does not turn a bare URL or a channel name in a value into a link.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

# Slack renders at most 10 fields in a section and 3000 characters in a text object.
_MAX_FIELDS = 10
_MAX_TEXT = 2900
# Log lines in a reason (container output, scanner findings): enough to see what went wrong,
# never a wall of text; the whole log is one click away.
MAX_LOG_LINE = 300
MAX_LOG_LINES = 20


class Event(enum.Enum):
    """What a message announces."""

    NOTICE = "pre-deploy notice"
    EMERGENCY_OVERRIDE = "emergency override of the notice period"
    DEPLOY_STARTED = "deployment started"
    PHASE = "status update"
    SWITCH_DONE = "live traffic switched"
    ALL_CLEAR = "all clear"
    VALIDATION_PASSED = "validation period passed"
    HANDOVER_COMPLETE = "handover complete"
    ESCALATION = "escalation"
    ROLLBACK_STARTED = "rollback started"
    ROLLBACK_FINISHED = "rollback finished"
    ABORTED = "deployment aborted"


_ICONS = {
    Event.NOTICE: ":calendar:",
    Event.EMERGENCY_OVERRIDE: ":rotating_light:",
    Event.DEPLOY_STARTED: ":rocket:",
    Event.PHASE: ":large_blue_circle:",
    Event.SWITCH_DONE: ":twisted_rightwards_arrows:",
    Event.ALL_CLEAR: ":white_check_mark:",
    Event.VALIDATION_PASSED: ":white_check_mark:",
    Event.HANDOVER_COMPLETE: ":handshake:",
    Event.ESCALATION: ":sos:",
    Event.ROLLBACK_STARTED: ":rewind:",
    Event.ROLLBACK_FINISHED: ":leftwards_arrow_with_hook:",
    Event.ABORTED: ":no_entry:",
}


@dataclass(frozen=True)
class RunRef:
    """The run a message is about: handoff, DAG, run id and the Airflow UI's base URL."""

    handoff_id: str
    dag_id: str
    run_id: str
    base_url: str

    @property
    def run_url(self) -> str:
        """Return the run's page in the Airflow UI."""
        return f"{self.base_url.rstrip('/')}/dags/{quote(self.dag_id)}/runs/{quote(self.run_id)}"

    def task_url(self, task_id: str, try_number: int | None = None) -> str:
        """Return a task's page (its log) in the Airflow UI."""
        url = f"{self.run_url}/tasks/{quote(task_id)}"
        return f"{url}?try_number={try_number}" if try_number else url


@dataclass(frozen=True)
class Message:
    """One message: its event, the step it belongs to, a fallback text and its blocks."""

    event: Event
    step: str
    text: str
    blocks: tuple[dict[str, Any], ...]

    def payload(self) -> dict[str, Any]:
        """Return the webhook body: {"text": fallback, "blocks": [...]}."""
        return {"text": self.text, "blocks": list(self.blocks)}


def mrkdwn(value: object) -> str:
    """Return a value as literal mrkdwn text: `&`, `<` and `>` escaped, as Slack asks."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_log(text: str) -> str:
    """Return log text bounded in lines and line length, saying how much was left out."""
    lines = text.splitlines() or [""]
    kept = [
        line if len(line) <= MAX_LOG_LINE else line[: MAX_LOG_LINE - 1] + "…"
        for line in lines[:MAX_LOG_LINES]
    ]
    if len(lines) > MAX_LOG_LINES:
        kept.append(f"… {len(lines) - MAX_LOG_LINES} more lines in the task log")
    return "\n".join(kept)


class _Markup(str):
    """Markup the project made (a link to its own URL): inserted into a pattern as it is."""


def _link(url: str, label: str) -> _Markup:
    """Return a link to one of the project's own URLs (run and log pages in Airflow)."""
    # `|` and `>` would end the URL part early; the project's URLs are quoted, this is a guard.
    return _Markup(f"<{url.replace('|', '%7C').replace('>', '%3E')}|{mrkdwn(label)}>")


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _fill(pattern: str, values: Mapping[str, object]) -> str:
    """Fill a project pattern with values, escaped unless they are the project's own markup."""
    # Numbers keep their type so a pattern can format them ({seconds:.2f}); they hold no markup.
    return pattern.format_map(
        {k: v if isinstance(v, _Markup | int | float) else mrkdwn(v) for k, v in values.items()}
    )


def _text_object(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text), "verbatim": True}


def _message(
    event: Event,
    ref: RunRef,
    step: str,
    title: str,
    body: str,
    values: Mapping[str, object] | None = None,
    facts: Sequence[tuple[str, object]] = (),
) -> Message:
    """Build a message from project patterns (`title`, `body`) and the values they name."""
    filled = {**(values or {}), "run_link": _link(ref.run_url, "its page in Airflow")}
    title_text, body_text = _fill(title, filled), _fill(body, filled)
    handoff, run_id = mrkdwn(ref.handoff_id), mrkdwn(ref.run_id)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{handoff}: {title_text}"}},
        {"type": "section", "text": _text_object(body_text)},
    ]
    if facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    _text_object(f"*{name}*\n{mrkdwn(value)}")
                    for name, value in facts[:_MAX_FIELDS]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                _text_object(
                    f"{_ICONS[event]} {event.value} · handoff *{handoff}* · "
                    f"run `{run_id}` · {_link(ref.run_url, 'open the run in Airflow')}"
                )
            ],
        }
    )
    text = f"[{handoff}] {title_text}: {body_text} (run {run_id}: {mrkdwn(ref.run_url)})"
    return Message(event, step, _clip(text), tuple(blocks))


def notice(
    ref: RunRef,
    *,
    service: str,
    release: str,
    deploy_at: datetime,
    lead: str,
    sender: str,
    owners: Sequence[str],
    objective: str,
) -> Message:
    """Announce what deploys when, who runs it, and how to object."""
    contacts = ", ".join(owners) or sender
    when = _at(deploy_at)
    return _message(
        Event.NOTICE,
        ref,
        "pre_deploy_notice",
        "{release} deploys at {when}",
        "*What*: {service} release `{release}` goes live through a blue-green switch. "
        "{objective}\n*How to object*: reply in this channel or contact {contacts} before "
        "{when}; the run can be stopped from {run_link} (mark it failed) until the switch.",
        {
            "release": release,
            "when": when,
            "service": service,
            "objective": objective,
            "contacts": contacts,
        },
        [("When", when), ("Notice", lead), ("Who", contacts), ("Handed over by", sender)],
    )


def emergency_override(
    ref: RunRef, *, release: str, deploy_at: datetime, reason: str, given: str, lead: str
) -> Message:
    """Announce a deploy with less notice than the contract asks, and why."""
    return _message(
        Event.EMERGENCY_OVERRIDE,
        ref,
        "pre_deploy_notice",
        "EMERGENCY deploy of {release}",
        "The contract asks for {lead} of notice; this deploy gives {given}.\n*Reason*: {reason}",
        {"release": release, "lead": lead, "given": given, "reason": reason},
        [("When", _at(deploy_at)), ("Notice given", given), ("Notice asked", lead)],
    )


def deploy_started(ref: RunRef, *, service: str, release: str) -> Message:
    """Announce that the release is being started in the idle colour."""
    return _message(
        Event.DEPLOY_STARTED,
        ref,
        "deploy",
        "deployment of {release} started",
        "Starting {service} `{release}` in the idle colour; live traffic is untouched "
        "until every pre-switch gate passes.",
        {"release": release, "service": service},
    )


def phase(ref: RunRef, *, step: str, title: str, detail: str) -> Message:
    """Announce a phase transition (real-time status); title and detail are plain text."""
    return _message(
        Event.PHASE, ref, step, "{title}", "{detail}", {"title": title, "detail": detail}
    )


def switch_done(
    ref: RunRef,
    *,
    release: str,
    from_colour: str,
    to_colour: str,
    seconds: float,
    requests: int,
    failed: int,
) -> Message:
    """Announce that live traffic now goes to the release."""
    return _message(
        Event.SWITCH_DONE,
        ref,
        "switch",
        "live traffic switched to {release}",
        "Live moved {from_colour} -> {to_colour} in {seconds:.2f} s. The old colour stays warm "
        "for a rollback in seconds until the handover.",
        {
            "release": release,
            "from_colour": from_colour,
            "to_colour": to_colour,
            "seconds": seconds,
        },
        [("Zero-downtime probe", f"{requests} requests, {failed} failed")],
    )


def all_clear(ref: RunRef, *, release: str, watched: str) -> Message:
    """Announce the all-clear after the first watch window."""
    return _message(
        Event.ALL_CLEAR,
        ref,
        "all_clear",
        "all clear for {release}",
        "Health, error rate and latency stayed within the contract's thresholds for {watched} "
        "after the switch. The validation period continues.",
        {"release": release, "watched": watched},
    )


def validation_passed(ref: RunRef, *, release: str) -> Message:
    """Announce the end of the validation period without breach or reported issue."""
    return _message(
        Event.VALIDATION_PASSED,
        ref,
        "validation_period",
        "validation period passed for {release}",
        "No threshold was breached and no user-reported issue was confirmed. "
        "The monitoring period continues.",
        {"release": release},
    )


def handover_complete(ref: RunRef, *, release: str, retired: str) -> Message:
    """Announce the handover: the operations team owns the release, the old colour is gone."""
    return _message(
        Event.HANDOVER_COMPLETE,
        ref,
        "handover",
        "handover of {release} complete",
        "The monitoring period passed and the operations team accepted the handover. "
        "Retired: {retired}.",
        {"release": release, "retired": retired},
    )


def escalation(
    ref: RunRef, *, task_id: str, try_number: int, reason: str, consequence: str
) -> Message:
    """Escalate a failed step: which step, why (log lines clipped), what happens next, its log."""
    log_url = ref.task_url(task_id, try_number)
    return _message(
        Event.ESCALATION,
        ref,
        f"{task_id}#{try_number}",
        "step {task_id} failed",
        "*Why*: {reason}\n*Next*: {consequence}\n*Log*: {log_link}",
        {
            "task_id": task_id,
            "reason": clip_log(reason),
            "consequence": consequence,
            "log_link": _link(log_url, f"{task_id}, try {try_number}"),
        },
        [("Step", task_id), ("Try", str(try_number))],
    )


def rollback_started(ref: RunRef, *, release: str, to_release: str) -> Message:
    """Announce that live traffic goes back to the previous release."""
    return _message(
        Event.ROLLBACK_STARTED,
        ref,
        "rollback",
        "rolling back {release}",
        "A step after the switch failed: live traffic goes back to `{to_release}` "
        "(the old colour is still warm).",
        {"release": release, "to_release": to_release},
    )


def rollback_finished(
    ref: RunRef, *, restored: str, seconds: float, target: str, met: bool
) -> Message:
    """Announce the rollback and the time it took to restore service."""
    return _message(
        Event.ROLLBACK_FINISHED,
        ref,
        "rollback",
        "service restored on {restored}",
        "Rollback finished: service restored in {seconds:.2f} s (target {target}: {verdict}).",
        {
            "restored": restored,
            "seconds": seconds,
            "target": target,
            "verdict": "met" if met else "MISSED",
        },
        [("Time to restore service", f"{seconds:.2f} s"), ("Target", target)],
    )


def aborted(ref: RunRef, *, release: str, live: str) -> Message:
    """Announce an abort before the switch: no user ever saw the release."""
    return _message(
        Event.ABORTED,
        ref,
        "abort",
        "deployment of {release} aborted",
        "A step before the switch failed; the new colour was removed and no user saw the "
        "release. Live: {live}, untouched.",
        {"release": release, "live": live},
    )
