"""The HTML report in headless Chromium: 0 axe violations (WCAG 2.1 A/AA and best practice).

Audited on the reports of real rehearsals (tests/fixtures/reports, written by the
rehearsals of tests/integration/dags) and on one full of hostile contract text; the live
rehearsals of test_rehearsal audit the report they have just written the same way.
"""

from __future__ import annotations

import pytest

from handoff.catalog import Handoff
from handoff.report.build import build_report
from handoff.report.html_page import render_html
from tests.support.axe_audit import audit_html
from tests.support.full_report import charts, drift, every_kind_of_evidence
from tests.support.reports import rehearsal_report
from tests.unit.report.test_report import INJECTED, handoff, records  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["success", "rollback"])
def test_a_rehearsals_html_report_has_no_axe_violation(name: str) -> None:
    assert audit_html(render_html(rehearsal_report(name))) == {}


def test_a_report_of_hostile_contract_text_has_no_axe_violation(
    handoff: Handoff,  # noqa: F811 (the fixture of test_report)
) -> None:
    assert audit_html(render_html(build_report(records(handoff)))) == {}


def test_a_report_with_every_section_filled_has_no_axe_violation(
    handoff: Handoff,  # noqa: F811 (the fixture of test_report)
) -> None:
    # Drift, dependencies, a record of every evidence kind (one hostile), notifications,
    # metrics with a rollback, the timeline: every section the page can hold.
    full = records(
        handoff,
        evidence=every_kind_of_evidence(INJECTED),
        drift=drift(INJECTED),
        charts=charts(INJECTED),
    )
    report = build_report(full)
    assert report.drift and report.notifications and report.dependencies and report.charts
    assert sum(bool(d.evidence) for d in report.dependencies) == 3
    page = render_html(report)
    for section in ("drift", "metrics", "dependencies", "criteria", "unplanned", "chart-1"):
        assert f'id="{section}"' in page, section
    assert 'id="notifications"' in page and 'id="tasks"' in page
    assert audit_html(page) == {}


def test_the_handoffs_page_has_no_axe_violation() -> None:
    from datetime import UTC, datetime

    from handoff.ui.overview import HandoffRow, LatestRun, WatchFigures
    from handoff.ui.page import render_page

    watch = WatchFigures("validation", "open", 3600, 40, 2.5, 1.0, (("/", 120.0, 100.0),), "now")
    rows = [
        HandoffRow(
            "OK-1",
            "OK-1.md",
            "handoff_ok_1",
            (),
            1,
            "accepted by SRE",
            "when triggered",
            LatestRun("manual__1", "running", datetime(2026, 12, 1, tzinfo=UTC)),
            ("html", "md", "json"),
            (watch,),
        ),
        HandoffRow(
            "BROKEN-<b>2</b>",
            "broken.md",
            None,
            ("broken.md:3: error: no Handoff ID",),
            0,
            "not accepted (no sidecar)",
            "-",
            None,
            (),
            (),
        ),
        HandoffRow("NEW-3", "NEW-3.md", "handoff_new_3", (), 0, "accepted", "-", None, (), ()),
    ]
    assert audit_html(render_page(rows, "http://af:8080", "admin")) == {}
    assert audit_html(render_page([], "http://af:8080", "admin")) == {}
