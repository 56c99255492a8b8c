"""Small formatting helpers shared by the renderers."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def when(value: datetime | None) -> str:
    """Return a time as the report shows it (UTC, to the millisecond), or '-'."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC" if value else "-"


def seconds(value: float | None) -> str:
    """Return a duration in seconds, or '-'."""
    return f"{value:.2f} s" if value is not None else "-"


def figures(values: dict[str, Any]) -> str:
    """Return measured values or thresholds as 'key=value, ...'."""
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
