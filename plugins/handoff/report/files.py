"""Where a run's report lives: `<run_dir>/report.{md,html,json}`, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from handoff.report.html_page import render_html
from handoff.report.markdown import render_markdown
from handoff.report.model import Report

FORMATS = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


def report_path(run_directory: Path, fmt: str) -> Path:
    """Return the path of a run's report in one format."""
    return run_directory / f"report.{fmt}"


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    Path(tmp).replace(path)


def write_report(report: Report, run_directory: Path) -> list[Path]:
    """Write the report as Markdown, HTML and JSON; return the paths."""
    run_directory.mkdir(parents=True, exist_ok=True)
    texts = {
        "md": render_markdown(report),
        "html": render_html(report),
        "json": json.dumps(report.to_json(), indent=2, sort_keys=True),
    }
    paths = []
    for fmt, text in texts.items():
        path = report_path(run_directory, fmt)
        _write(path, text)
        paths.append(path)
    return paths


def read_report_json(run_directory: Path) -> dict[str, Any] | None:
    """Return a run's JSON report, or None when it has none (yet)."""
    path = report_path(run_directory, "json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
