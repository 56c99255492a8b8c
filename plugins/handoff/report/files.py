"""Where a run's report lives: `<run_dir>/report.{md,html,json}`, written atomically.

Written and read through `handoff.safe_paths`: never through a symlink.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handoff.report.html_page import render_html
from handoff.report.markdown import render_markdown
from handoff.report.model import Report
from handoff.safe_paths import read_text_or_none, write_beneath

FORMATS = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


def report_name(fmt: str) -> str:
    """Return the file name of a run's report in one format (only the known formats)."""
    if fmt not in FORMATS:
        raise ValueError(f"reports come as {', '.join(FORMATS)}, not {fmt!r}")
    return f"report.{fmt}"


def write_report(report: Report, run_directory: Path) -> list[Path]:
    """Write the report as Markdown, HTML and JSON; return the paths."""
    texts = {
        "md": render_markdown(report),
        "html": render_html(report),
        "json": json.dumps(report.to_json(), indent=2, sort_keys=True),
    }
    paths = []
    for fmt, text in texts.items():
        paths.append(write_beneath(run_directory, (report_name(fmt),), text.encode("utf-8")))
    return paths


def read_report_json(run_directory: Path) -> dict[str, Any] | None:
    """Return a run's JSON report, or None when it has none (yet)."""
    text = read_text_or_none(run_directory, (report_name("json"),))
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
