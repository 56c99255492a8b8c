"""When each task of a run started and ended, as the task itself recorded it.

Why the tasks record their own times: in Airflow 3 a task cannot query the metadata
database, and the task SDK's supported calls return task states but not start and end
times. Each task writes its try's start (from its task-level execute callback) and end (from
its success, failure or skip callback) to `<run_dir>/timings/<task_id>.json`, beside the
run's evidence. Only the task writes its own file, so there is no concurrent writer; a retry
adds its try. This works the same under `dag.test()`, LocalExecutor and Celery (with the
shared report folder the evidence and the ledger already require). No Airflow import here.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
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


def _path(run_directory: Path, task_id: str) -> Path:
    return run_directory / FOLDER / f"{_UNSAFE.sub('_', task_id)}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    Path(tmp).replace(path)


def record_start(run_directory: Path, task_id: str, try_number: int, at: datetime) -> None:
    """Record a try's start; the first start wins (a deferred task resumes, it does not restart)."""
    path = _path(run_directory, task_id)
    data = _read(path) or {"task_id": task_id, "tries": {}}
    entry = data["tries"].setdefault(str(try_number), {})
    entry.setdefault("start", at.isoformat())
    _write(path, data)


def record_end(
    run_directory: Path, task_id: str, try_number: int, at: datetime, state: str
) -> None:
    """Record how and when a try ended."""
    path = _path(run_directory, task_id)
    data = _read(path) or {"task_id": task_id, "tries": {}}
    entry = data["tries"].setdefault(str(try_number), {})
    entry.update({"end": at.isoformat(), "state": state})
    _write(path, data)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def read_timings(run_directory: Path) -> dict[str, TryTiming]:
    """Return the latest try of every task that recorded one, by task id."""
    latest: dict[str, TryTiming] = {}
    folder = run_directory / FOLDER
    if not folder.is_dir():
        return latest
    for path in sorted(folder.glob("*.json")):
        data = _read(path)
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
