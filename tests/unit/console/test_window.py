"""Reading the trigger's status file into the handoff page's window section."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from handoff.console.window import read_window_status, window_html

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _write(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "watch" / "soak.json"
    path.parent.mkdir()
    status = {
        "window": "soak",
        "state": "watching",
        "end_at": "2026-12-02T14:30:00+00:00",
        "updated_at": "2026-12-02T11:59:30+00:00",
        "thresholds": {},
        "summary": {},
        **extra,
    }
    path.write_text(json.dumps(status))
    return path


def test_old_file_without_analyses_or_alerts(tmp_path: Path) -> None:
    status = read_window_status(_write(tmp_path))
    assert status is not None and status.analyses == () and status.alerts == ()
    assert status.seconds_left(NOW) == 9000
    assert "2 h 30 min left" in window_html(status, NOW)


def test_analyses_and_alerts_rendered_escaped(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        analyses=[
            {"metric": "<p95>", "status": "fail", "condition": "< 300", "last": {"value": 412}}
        ],
        alerts=[{"name": "HighErrorRate", "labels": {}, "active_at": "2026-12-02T11:58:00Z"}],
    )
    html = window_html(read_window_status(path), NOW)
    assert "&lt;p95&gt;" in html and "<p95>" not in html
    assert "412" in html and "<li>HighErrorRate</li>" in html


def test_missing_or_malformed_file_reads_as_none(tmp_path: Path) -> None:
    assert read_window_status(tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert read_window_status(tmp_path / "bad.json") is None
    assert "No window open" in window_html(None, NOW)
