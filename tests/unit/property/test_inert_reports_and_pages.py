"""Hostile contract text (templates, mrkdwn, HTML, path tricks) stays inert in reports and pages.

The gates and the Slack messages have their own property tests (test_contract_text_is_data);
file access has its own (test_inert_and_paths). Here the same hostile text goes into a
contract's objective, user-impact metric and next steps, then through the report builder,
its HTML and Markdown renderers, and the Handoffs page: nothing is rendered as a template,
no tag or link survives unescaped, and no secret from the environment appears.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.catalog import load_handoff
from handoff.report.build import build_report
from handoff.report.html_page import render_html
from handoff.report.markdown import render_markdown
from handoff.ui.catalog_cache import cached_catalog
from handoff.ui.overview import handoff_rows
from handoff.ui.page import render_page
from tests.support.poisoned import (
    MRKDWN_PAYLOADS,
    SECRET_ENV,
    SECRET_URL,
    SECRET_VARIABLE,
    TEMPLATE_PAYLOADS,
    poisoned_handoff,
)
from tests.unit.report.test_report import records

HTML_PAYLOADS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "[click](javascript:alert(1))",
    "](https://evil.example)",
]
PATH_PAYLOADS = ["../../etc/passwd", "%2e%2e/%2e%2e/", "/proc/self/environ", "report.md\x00"]
PAYLOADS = TEMPLATE_PAYLOADS + MRKDWN_PAYLOADS + HTML_PAYLOADS + PATH_PAYLOADS


def assert_inert(page: str, payloads: list[str], shown: str | None) -> None:
    """No payload with markup survives unescaped, no secret appears, the text is shown."""
    assert SECRET_URL not in page and SECRET_VARIABLE not in page
    for payload in payloads:
        if "<" in payload or ">" in payload:
            assert payload not in page, payload
    if shown is not None:
        assert html.escape(shown, quote=False) in page or html.escape(shown) in page, shown


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chosen=st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=4, unique=True))
def test_hostile_contract_text_stays_text_in_reports_and_the_page(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, chosen: list[str]
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    root = tmp_path_factory.mktemp("inert-report")
    text = " ".join(chosen).replace("\x00", "")
    contract = poisoned_handoff(root, text)
    handoff = load_handoff(contract)
    if not handoff.deployable:  # the text broke the contract's structure: a located error
        assert handoff.diagnostics
        return

    report = build_report(records(handoff))
    page_html = render_html(report)
    assert handoff.contract is not None
    # The objective as the parser read it (markdown emphasis such as __x__ is markup there).
    assert_inert(page_html, chosen, handoff.contract.objective)
    markdown = render_markdown(report)
    assert SECRET_URL not in markdown and SECRET_VARIABLE not in markdown
    for template in TEMPLATE_PAYLOADS:
        if template in text:
            assert "{{" in markdown or "{%" in markdown or "{#" in markdown

    rows = handoff_rows(
        cached_catalog([contract.parent]),
        {"handoff_poison_1"},
        {},
        datetime.now(UTC),
        show_undeployed=True,
    )
    assert_inert(render_page(rows, "http://af:8080", text), chosen, None)
