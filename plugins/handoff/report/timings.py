"""When each task of a run started and ended, as the task itself recorded it.

Why the tasks record their own times: in Airflow 3 a task cannot query the metadata
database, and the task SDK's supported calls return task states but not start and end
times. Each task writes its try's start (from its task-level execute callback) and end (from
its success, failure or skip callback) to `<run_dir>/timings/<task_id>.json`, beside the
run's evidence. Only the task writes its own file, so there is no concurrent writer; a retry
adds its try. This works the same under `dag.test()`, LocalExecutor and Celery (with the
shared report folder the evidence and the ledger already require). No Airflow import here.
Files are written and read through `handoff.safe_paths`: never through a symlink.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.safe_paths import (
    list_beneath,
    read_text_or_none,
    task_file_name,
    write_beneath,
)

FOLDER = "timings"


@dataclass(frozen=True)
class TryTiming:
    """One try of one task: when it started, when and how it ended (None while running)."""

    task_id: str
    try_number: int
    start: datetime | None
    end: datetime | None
    state: str | None

    @property
    def seconds(self) -> float | None:
        """Return how long the try took, when it ended."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


def _parts(task_id: str) -> tuple[str, str]:
    return (FOLDER, task_file_name(task_id))


def _read(run_directory: Path, parts: tuple[str, str]) -> dict[str, Any]:
    text = read_text_or_none(run_directory, parts)
    try:
        data = json.loads(text) if text is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write(run_directory: Path, parts: tuple[str, str], data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True)
    write_beneath(run_directory, parts, text.encode("utf-8"))


def record_start(run_directory: Path, task_id: str, try_number: int, at: datetime) -> None:
    """Record a try's start; the first start wins (a deferred task resumes, it does not restart)."""
    parts = _parts(task_id)
    data = _read(run_directory, parts) or {"task_id": task_id, "tries": {}}
    entry = data["tries"].setdefault(str(try_number), {})
    entry.setdefault("start", at.isoformat())
    _write(run_directory, parts, data)


def record_end(
    run_directory: Path, task_id: str, try_number: int, at: datetime, state: str
) -> None:
    """Record how and when a try ended."""
    parts = _parts(task_id)
    data = _read(run_directory, parts) or {"task_id": task_id, "tries": {}}
    entry = data["tries"].setdefault(str(try_number), {})
    entry.update({"end": at.isoformat(), "state": state})
    _write(run_directory, parts, data)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def read_timings(run_directory: Path) -> dict[str, TryTiming]:
    """Return the latest try of every task that recorded one, by task id."""
    latest: dict[str, TryTiming] = {}
    for name in list_beneath(run_directory, (FOLDER,), ".json"):
        data = _read(run_directory, (FOLDER, name))
        tries = data.get("tries") or {}
        if not tries or "task_id" not in data:
            continue
        number = max(int(n) for n in tries)
        entry = tries[str(number)]
        latest[data["task_id"]] = TryTiming(
            data["task_id"],
            number,
            _time(entry.get("start")),
            _time(entry.get("end")),
            entry.get("state"),
        )
    return latest
