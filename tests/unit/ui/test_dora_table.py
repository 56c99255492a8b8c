"""The DORA table renders every figure with a trend, and says what was not measured."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from handoff.console.dora import DeploymentRun, Outcome, dora_figures, weekly_trend
from handoff.ui.dora_table import dora_html, sparkline

T = datetime(2026, 11, 2, tzinfo=UTC)


def test_table_has_four_rows_with_a_trend_each() -> None:
    run = DeploymentRun("h", T, T + timedelta(hours=3), Outcome.LIVE, T + timedelta(hours=2))
    html = dora_html(
        dora_figures([run], timedelta(weeks=2)), weekly_trend([run], T + timedelta(weeks=2), 2)
    )
    root = ET.fromstring(html)
    rows = root.findall("./tbody/tr")
    assert len(rows) == 4 and all(
        r.find(".//{http://www.w3.org/2000/svg}svg") is not None for r in rows
    )
    assert "2 h (median)" in html and "not measured" in html  # no rollback: no time to restore


def test_sparkline_skips_weeks_without_figures() -> None:
    root = ET.fromstring(sparkline("x", [1.0, None, 3.0]))
    line = root.find("{http://www.w3.org/2000/svg}polyline")
    assert line is not None and len((line.get("points") or "").split()) == 2
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == "x by week: 1, none, 3"
