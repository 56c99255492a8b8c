"""The report's Dependencies section: each contract item with what preflight proved of it."""

from __future__ import annotations

from dataclasses import replace

from handoff.catalog import Handoff
from handoff.checks.dependencies import GROUP
from handoff.evidence import EvidenceStatus
from handoff.report.build import build_report
from handoff.report.html_page import render_html
from handoff.report.markdown import render_markdown
from tests.unit.report.test_report import evidence, records
from tests.unit.report.test_report import handoff as handoff


def test_each_dependency_item_shows_its_evidence_apart_from_the_criteria(
    handoff: Handoff,
) -> None:
    proven = [
        replace(
            evidence("Infrastructure", EvidenceStatus.FAILED, "preflight"),
            group=GROUP,
            check="dependencies proven before deploy",
            summary="capacity: memory: 900 MB available, 1,180 MB needed",
        ),
        replace(evidence("Access Control", EvidenceStatus.PASSED, "preflight"), group=GROUP),
    ]
    base = records(handoff)
    report = build_report(replace(base, evidence=[*base.evidence, *proven]))
    rows = {row.name: row for row in report.dependencies}
    # Every item of the seed's Dependencies section is listed, proven or not.
    assert list(rows) == [
        "Infrastructure", "Access Control", "Domain/SSL", "Database", "CDN/Storage",
        "Third-party Services",
    ]  # fmt: skip
    assert rows["Infrastructure"].status == "failed"
    assert rows["Access Control"].status == "passed"
    assert rows["CDN/Storage"].status == "not verified" and rows["CDN/Storage"].evidence == ()
    assert rows["Infrastructure"].evidence[0].log_url.endswith("/tasks/preflight?try_number=1")
    assert not [e for e in report.unplanned_evidence if e.task_id == "preflight"]
    markdown = render_markdown(report)
    section = markdown[markdown.index("## Dependencies") : markdown.index("## Acceptance")]
    assert "memory: 900 MB available, 1,180 MB needed" in section
    assert '<table id="dependencies">' in render_html(report)
