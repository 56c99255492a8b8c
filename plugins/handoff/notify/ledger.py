"""The notification ledger: which message of which run was sent, or why it was not.

A small SQLite file under the environment's report directory. It is the idempotency store
(a retried task finds what its previous try already sent) and the record the report reads.
Why a file and not Airflow state: a task's XComs are cleared when it is retried, so a previous
try's record is gone exactly when it is needed; a Variable is global and keyed by strings
every run would share. SQLite serialises concurrent writers (parallel gate tasks) with its own
locking. All workers of a run must see the same report directory (one machine, or a shared
volume with Celery).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    key TEXT PRIMARY KEY,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    event TEXT NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL,
    seq INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Entry:
    """What happened to one message: sent, or failed after its attempts (with the error)."""

    key: str
    dag_id: str
    run_id: str
    event: str
    step: str
    status: str
    attempts: int
    error: str
    at: str


class Ledger:
    """The ledger file at `path` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            db.execute(_SCHEMA)
            yield db

    def sent(self, key: str) -> bool:
        """Tell whether the message with this key was delivered already."""
        with self._db() as db:
            row = db.execute("SELECT status FROM notifications WHERE key = ?", (key,)).fetchone()
        return bool(row and row[0] == "sent")

    def record(self, entry: Entry) -> None:
        """Record (or replace) what happened to one message."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM notifications))",
                (
                    entry.key,
                    entry.dag_id,
                    entry.run_id,
                    entry.event,
                    entry.step,
                    entry.status,
                    entry.attempts,
                    entry.error,
                    entry.at,
                ),
            )

    def entries(self, dag_id: str, run_id: str) -> list[Entry]:
        """Return a run's entries in the order they were last recorded."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT key, dag_id, run_id, event, step, status, attempts, error, at "
                "FROM notifications WHERE dag_id = ? AND run_id = ? ORDER BY seq",
                (dag_id, run_id),
            ).fetchall()
        return [Entry(*row) for row in rows]
