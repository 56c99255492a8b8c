"""The SVG chart renderer: well-formed, accessible, escaped, windows and switch marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from handoff.svg_chart import Band, Marker, Series, render_chart

T0 = 1_700_000_000.0


def _chart() -> str:
    return render_chart(
        "err",
        "Error rate <per colour>",
        "%",
        [
            Series("blue", ((T0, 0.1), (T0 + 60, 0.2))),
            Series("green", ((T0 + 60, 5.0), (T0 + 120, 0.0))),
        ],
        bands=[Band("window soak", T0 + 30, T0 + 120)],
        markers=[Marker("switch", T0 + 60)],
    )


def test_chart_is_well_formed_xml_with_title_and_desc() -> None:
    root = ET.fromstring(_chart())
    svg = root.find("{http://www.w3.org/2000/svg}svg")
    assert svg is not None and svg.get("role") == "img"
    title = svg.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == "Error rate <per colour>"
    desc = svg.find("{http://www.w3.org/2000/svg}desc")
    assert desc is not None and "switch at" in (desc.text or "")
    assert "peak 5 %" in (desc.text or "")


def test_window_band_switch_marker_and_one_line_per_series() -> None:
    svg = _chart()
    assert svg.count("<polyline") == 2
    assert svg.count("<rect") == 1
    assert 'stroke-dasharray="4 3"' in svg


def test_data_table_has_one_row_per_instant() -> None:
    root = ET.fromstring(_chart())
    rows = root.findall(".//tbody/tr")
    assert len(rows) == 3
    assert [td.text for td in rows[0].findall("td")] == ["0.1", "-"]


def test_label_text_is_escaped() -> None:
    svg = render_chart("x", "t", "ms", [Series("<script>", ((T0, 1.0),))])
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_chart_still_renders() -> None:
    ET.fromstring(render_chart("e", "No data", "ms", [Series("blue", ())]))
