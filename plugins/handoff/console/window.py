"""The open watch window as the handoff page shows it, read from the trigger's status file.

The trigger writes `<run folder>/watch/<task_id>.json`; `analyses` and `alerts` are optional
(older files lack them). A file that cannot be read gives None: the page says "no figures".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Analysis:
    """One metric's verdict: its condition, status and last value."""

    metric: str
    status: str
    condition: str
    last_value: float | None


@dataclass(frozen=True)
class WindowStatus:
    """The window's latest figures."""

    window: str
    state: str
    end_at: datetime
    updated_at: datetime
    analyses: tuple[Analysis, ...]
    alerts: tuple[str, ...]

    def seconds_left(self, now: datetime) -> float:
        """Seconds until the window closes, never negative."""
        return max((self.end_at - now).total_seconds(), 0.0)


def _analysis(raw: dict[str, Any]) -> Analysis:
    last = raw.get("last") or {}
    value = last.get("value") if isinstance(last, dict) else None
    return Analysis(
        metric=str(raw.get("metric", "?")),
        status=str(raw.get("status", "?")),
        condition=str(raw.get("condition", "")),
        last_value=float(value) if isinstance(value, int | float) else None,
    )


def _alert_name(raw: Any) -> str:
    if isinstance(raw, dict):
        labels = raw.get("labels") or {}
        # the trigger records {"name", "labels", "active_at"} (watch/trigger.py)
        return str(raw.get("name") or labels.get("alertname") or "unnamed alert")
    return str(raw)


def read_window_status(path: Path) -> WindowStatus | None:
    """Parse one status file; None when missing or malformed (a convenience, never fatal)."""
    try:
        raw = json.loads(path.read_text())
        return WindowStatus(
            window=str(raw["window"]),
            state=str(raw["state"]),
            end_at=datetime.fromisoformat(raw["end_at"]),
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            analyses=tuple(_analysis(a) for a in raw.get("analyses") or [] if isinstance(a, dict)),
            alerts=tuple(_alert_name(a) for a in raw.get("alerts") or []),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def window_html(status: WindowStatus | None, now: datetime) -> str:
    """The window section of the handoff page; every text from the file escaped."""
    if status is None:
        return '<section aria-label="Watch window"><p>No window open.</p></section>'
    left = round(status.seconds_left(now))
    rows = "".join(
        f"<tr><td>{escape(a.metric)}</td><td>{escape(a.condition)}</td>"
        f"<td>{'-' if a.last_value is None else f'{a.last_value:.4g}'}</td>"
        f"<td>{escape(a.status)}</td></tr>"
        for a in status.analyses
    )
    table = (
        '<table><thead><tr><th scope="col">Metric</th><th scope="col">Condition</th>'
        f'<th scope="col">Last</th><th scope="col">Status</th></tr></thead><tbody>{rows}'
        "</tbody></table>"
        if rows
        else ""
    )
    alerts = "".join(f"<li>{escape(a)}</li>" for a in status.alerts)
    return (
        f'<section aria-label="Watch window"><h2>Window {escape(status.window)}</h2>'
        f"<p>{escape(status.state)}, {left // 3600} h {left % 3600 // 60} min left "
        f"(as of {status.updated_at:%H:%M:%S} UTC)</p>{table}"
        + (f"<h3>Alerts</h3><ul>{alerts}</ul>" if alerts else "")
        + "</section>"
    )
