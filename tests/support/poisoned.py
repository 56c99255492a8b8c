"""Handoffs whose free text is full of template syntax and Slack mrkdwn control sequences.

Shared by the gate, message and property tests: the payloads go where a contract's text reaches
a person (the user-impact metric asked at the end of validation, the next steps shown at the
handover, the objective and parties announced in Slack) and must arrive as written.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.handoffs import make_handoffs

# A webhook URL that resolves nowhere: what the gate must never show.
SECRET_URL = "https://hooks.example.invalid/T000/B000/NOT-A-REAL-SECRET"
SECRET_VARIABLE = "variable-value-never-shown"
# A Slack connection and a variable holding the secrets, as Airflow reads them from the env.
SECRET_ENV = {
    "AIRFLOW_CONN_HANDOFF_SLACK": '{"conn_type": "slackwebhook", "password": "' + SECRET_URL + '"}',
    "AIRFLOW_VAR_X": SECRET_VARIABLE,
}

TEMPLATE_PAYLOADS = [
    "{{ conn.handoff_slack.password }}",
    "{{ var.value.x }}",
    "{{ unclosed",
    "{% if %}",
    "{% for x in y %}",
    "{# never closed",
    "{{ ''.__class__.__mro__ }}",
    "{% raw %}{{ var.value.x }}{% endraw %}",
]
MRKDWN_PAYLOADS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<https://evil.example|Approve here>",
    "<@U0123ABCD>",
    "<#C0123ABCD>",
    "<!subteam^S0123>",
    "a & b > c",
]

USER_IMPACT = "No user-reported issues within 24 hours"
NEXT_STEP = "Confirm production environment readiness"
OBJECTIVE = "Execute production deployment"


def poisoned_handoff(root: Path, text: str, handoff_id: str = "POISON-1") -> Path:
    """Write a seed handoff (go/no-go on) whose metric, next step and objective carry ``text``."""
    folder = make_handoffs(
        root, [handoff_id], sidecar_edits={"  mode: automatic": "  mode: manual"}
    )
    contract = folder / f"{handoff_id}.md"
    one_line = " ".join(text.splitlines())
    seed = contract.read_text(encoding="utf-8")
    for original in (USER_IMPACT, NEXT_STEP, OBJECTIVE):
        assert original in seed, original
        seed = seed.replace(original, f"{original} {one_line}")
    contract.write_text(seed, encoding="utf-8")
    return contract
