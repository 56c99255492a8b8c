"""Property: contract text full of template syntax and mrkdwn control sequences stays inert.

Generated text goes into a contract's user-impact metric, next steps and objective; the DAG is
built and its gates are rendered by Airflow's templating with real connection and variable
accessors (the secrets sit in the environment), then run until they ask a person. The same
text goes into every Slack message builder. Gates show the text exactly as the contract
reader read it; messages show it escaped, and their only links are the project's.
"""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handoff.catalog import load_handoff
from handoff.contract.model import MetricKind
from handoff.notify import messages
from handoff.render.dag import build_dag
from tests.support import poisoned
from tests.unit.notify.test_escaping import assert_inert, builders, texts
from tests.unit.render.test_gate_text import asked

# Characters of template and mrkdwn syntax, plus words; no markdown emphasis (`*`, `_`, `` ` ``),
# which the contract reader rightly turns into formatting, and no line breaks (one line each).
_SYNTAX = "{}%#<>!|&@^:/.'\"()[]=-+~ "
fragments = st.one_of(
    st.sampled_from(poisoned.TEMPLATE_PAYLOADS + poisoned.MRKDWN_PAYLOADS),
    st.text(alphabet=st.sampled_from(_SYNTAX + "abcxyz019"), min_size=1, max_size=24),
)
hostile_text = st.lists(fragments, min_size=1, max_size=6).map(" ".join)


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in poisoned.SECRET_ENV.items():
        monkeypatch.setenv(name, value)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=hostile_text)
def test_gates_show_contract_text_as_read(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    contract = poisoned.poisoned_handoff(tmp_path_factory.mktemp("gate"), text)
    handoff = load_handoff(contract)
    assume(handoff.deployable)  # text that breaks the contract's structure is another test's
    assert handoff.plan is not None
    dag = build_dag(handoff)
    metric = handoff.plan.contract.metric(MetricKind.USER_IMPACT)
    assert metric is not None
    subject, _ = asked(dag.get_task("validation_period.no_user_reported_issues"), monkeypatch)
    assert subject == f"POISON-1: {metric.text}?"
    _, body = asked(dag.get_task("handover.sign_off"), monkeypatch)
    for step in handoff.plan.contract.next_steps:
        assert f"- **{step.name}**: {step.text}" in body
    for shown in (subject, body):
        assert poisoned.SECRET_URL not in shown and poisoned.SECRET_VARIABLE not in shown


@settings(max_examples=150, deadline=None)
@given(text=hostile_text)
def test_every_message_escapes_any_text(text: str) -> None:
    for build in builders(text):
        message = build()
        assert_inert(message)
        if "<" in text or "&" in text or ">" in text:
            # Escaped, not removed: reversing Slack's escaping gives the text back.
            assert any(text in html.unescape(shown) for shown in texts(message.payload()))


@given(text=st.text(max_size=200))
def test_escaping_is_reversible_and_leaves_no_control_character(text: str) -> None:
    escaped = messages.mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text
