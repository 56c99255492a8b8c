"""The Markdown report: clean Markdown, and nothing from a contract or a record becomes markup.

Each hostile string goes through the escaping and then through a GitHub-like renderer
(markdown-it's gfm-like preset: raw HTML allowed, tables, strikethrough, bare-URL and
e-mail autolinks), which must give back the same text and no element at all.
"""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from handoff.report.build import build_report
from handoff.report.markdown import cell, code, link, render_markdown
from handoff.report.text import figures
from tests.support.full_report import (
    DEPENDENCY_KINDS,
    EVERY_KIND,
    charts,
    drift,
    every_kind_of_evidence,
)
from tests.support.reports import rehearsal_report
from tests.unit.report.test_report import INJECTED, handoff, records  # noqa: F401

RENDERER = MarkdownIt("gfm-like")
HOSTILE = [
    INJECTED,
    "[click](https://evil.example/x) and ![img](https://evil.example/i.png)",
    "[ref]: https://evil.example/ref",
    "<https://evil.example> <a href=x>x</a> <!-- comment --> <?php x ?>",
    "www.evil.example and https://evil.example/a_b and mail@evil.example",
    "@channel @here ping",
    "*strong* **strong** _em_ __em__ ~~gone~~ ~gone~ $x^2$",
    "`code` ``more`` \\`escaped\\` \\\\",
    "&lt;b&gt; &amp; &#x27; &#39; &copy;",
    "a | b || c \\| d",
    "# heading",
    "> quote",
    "- item",
    "+ item",
    "1. item",
    "---",
    "line one\nline two\r\n\r\n| injected | row |\u2028x\u0085y\x00z",
    "text with p95_ms and snake_case names, <= 3000 ms, > 10 %, 0.5 %",
    "run manual__2026-12-02 and a__b__c, snake_ _x_ x__ __y",
]


def rendered_text(markdown: str) -> str:
    """Return what a GitHub-like renderer makes of one paragraph, tags and all."""
    output = RENDERER.render(markdown).strip()
    assert output.startswith("<p>") and output.endswith("</p>"), output
    return output[3:-4]


def plain(text: str) -> str:
    """Return the text a reader should see: one line, runs of blanks as one space."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_escaped_text_renders_as_itself_and_nothing_else(hostile: str) -> None:
    escaped = cell(hostile)
    assert "\n" not in escaped and "\r" not in escaped
    inner = rendered_text(f"x {escaped}")
    assert "<" not in inner.replace("&lt;", ""), inner  # no element of any kind
    assert html.unescape(inner).split() == ["x", *plain(hostile).split()]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_escaped_text_stays_in_its_table_cell(hostile: str) -> None:
    table = f"| a | b |\n|---|---|\n| {cell(hostile)} | {code(hostile)} |\n"
    output = RENDERER.render(table)
    assert output.count("<td>") == 2 and output.count("<tr>") == 2, output
    assert not re.search(r"<(?!/?(table|thead|tbody|tr|th|td|code)\b)", output), output


def test_a_code_span_keeps_backticks_and_pipes() -> None:
    assert code("deploy.start_release") == "`deploy.start_release`"
    table = f"| a |\n|---|\n| {code('a`b|c')} |\n"
    assert "<code>a`b|c</code>" in RENDERER.render(table)


def test_links_go_only_to_http_urls_and_stay_inert() -> None:
    assert link("log", "javascript:alert(1)") == "log"
    assert link("log", "") == "log"
    hostile = 'http://af:8080/x) [y](http://evil.example/"<b>'
    output = RENDERER.render(link("log", hostile))
    assert output.count("<a ") == 1 and "evil" in output and "<b>" not in output
    assert re.fullmatch(r'<p><a href="[^"<> ]+">log</a></p>\n', output), output


def test_the_report_has_no_entities_and_only_its_own_links(
    handoff,  # noqa: F811 (the fixture of test_report)
) -> None:
    text = render_markdown(build_report(records(handoff)))
    assert not re.search(r"&(#x?[0-9a-f]+|[a-z]+);", text, re.IGNORECASE)
    output = RENDERER.render(text)
    assert "<script" not in output and "<img" not in output
    hrefs = re.findall(r'<a href="([^"]*)"', output)
    assert hrefs and all(h.startswith("http://af:8080/dags/handoff_report_1/") for h in hrefs)
    assert INJECTED in html.unescape(output)  # shown as the text it is
    objective = next(line for line in text.splitlines() if line.startswith("| Objective"))
    assert objective.count(" | ") == 1  # the injected pipe is escaped, not a new column


@pytest.mark.parametrize("name", ["success", "rollback"])
def test_a_rehearsals_report_reads_as_plain_text(name: str) -> None:
    text = render_markdown(rehearsal_report(name))
    assert not re.search(r"&(#x?[0-9a-f]+|[a-z]+);", text, re.IGNORECASE)
    assert "<br>" not in text
    criteria = text[text.index("## Acceptance criteria") : text.index("## Timeline")]
    rows = [re.split(r"(?<!\\)\|", line) for line in criteria.splitlines()[5:] if line]
    assert rows and all(len(row) == 9 for row in rows), rows
    measured = [row[6] for row in rows]
    assert not [m for m in measured if re.search(r"[{}]|\[\{|'", m)], measured  # no repr
    assert "exposed ports 8000/tcp, published ports none, not privileged" in criteria
    assert re.search(r"3 steps \(HTTP 200, 201\), slowest \w+ /\S* [\d.]+ ms", criteria)
    assert "<= budget 3000 ms" in criteria  # comparison signs are left as they are


def test_a_report_with_every_section_filled_is_clean_markdown(
    handoff,  # noqa: F811 (the fixture of test_report)
) -> None:
    full = records(
        handoff,
        evidence=every_kind_of_evidence(INJECTED),
        drift=drift(INJECTED),
        charts=charts(INJECTED),
    )
    text = render_markdown(build_report(full))
    assert "| error rate through live | green | 10 | 33 % | 33 % |" in text
    assert not re.search(r"&(#x?[0-9a-f]+|[a-z]+);", text, re.IGNORECASE)
    for section in ("Drift during the run", "Dependencies", "Watch windows", "Notifications"):
        assert f"## {section}" in text, section
    for kind, measured in [*EVERY_KIND, *DEPENDENCY_KINDS]:
        assert cell(figures(measured)) in text, kind
    # Every table row keeps its columns, hostile text included; no element comes from it.
    output = RENDERER.render(text)
    assert "<script" not in output and "<img" not in output
    for table in re.findall(r"<table>.*?</table>", output, re.DOTALL):
        head = table.count("<th>") or table.count("<th ")
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.DOTALL)
        assert all(row.count("<td") == head for row in rows), table[:300]
