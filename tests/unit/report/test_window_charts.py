"""The windows' charts of the HTML report: the PromQL asked, the answers drawn, inert text."""

from __future__ import annotations

import re

from handoff.analysis.prometheus import ErrorKind, QueryError, RangeResult, Series
from handoff.analysis.queries import Target, latency_quantile, router_error_rate
from handoff.catalog import Handoff
from handoff.report.build import build_report
from handoff.report.html_page import render_html
from handoff.report.window_series import chart_queries, charts_from
from tests.support.full_report import charts
from tests.unit.report.test_report import INJECTED, handoff, records  # noqa: F401


def test_the_charts_ask_what_the_watches_judge_per_colour() -> None:
    queries = chart_queries("svc", ["/", "/api"], 60)
    assert [(q.chart, q.label) for q in queries] == [
        ("error rate through live", "blue"),
        ("error rate through live", "green"),
        ("p95 latency of /", "blue"),
        ("p95 latency of /", "green"),
        ("p95 latency of /api", "blue"),
        ("p95 latency of /api", "green"),
    ]
    assert queries[1].promql == router_error_rate(Target("svc", "green"), 60).promql
    assert queries[4].promql == latency_quantile(Target("svc", "blue"), 60, "/api").promql


def test_answers_become_lines_in_the_charts_unit_and_nan_is_left_out() -> None:
    queries = chart_queries("svc", ["/"], 60)
    answers = [
        RangeResult("q", 0, 10, 5, (Series({}, ((0.0, 0.01), (5.0, float("nan")))),)),
        QueryError(ErrorKind.TIMEOUT, "no answer", "q"),  # an error answer draws nothing
        RangeResult("q", 0, 10, 5, (Series({}, ((0.0, 0.0095),)),)),
        RangeResult("q", 0, 10, 5, ()),
    ]
    error_rate, p95 = charts_from(queries, answers)
    assert list(error_rate.lines) == [
        ("blue", ((0.0, 1.0),)),
        ("green", ()),
    ]
    assert p95.unit == "ms" and p95.lines[0] == ("blue", ((0.0, 9.5),))


def test_the_html_report_draws_each_chart_with_its_windows_and_switch(
    handoff: Handoff,  # noqa: F811 (the fixture of test_report)
) -> None:
    page = render_html(build_report(records(handoff, charts=charts(INJECTED))))
    figures = re.findall(r'<figure id="chart-\d">.*?</figure>', page, re.DOTALL)
    assert len(figures) == 2
    first = figures[0]
    assert first.count("<polyline") == 1  # blue has no point: no line
    assert "validation period window" in first and "<title>switch</title>" in first
    assert "Shaded: validation period window" in first and "dashed: switch at" in first
    assert "<script" not in page and "&lt;script&gt;" in figures[1]  # the title is text
    without = render_html(build_report(records(handoff)))
    assert "No chart: Prometheus did not observe this run." in without
