#!/usr/bin/env python3
"""The demo release's own migration command: plain versioned SQL files, applied in order.

Each file of /opt/demo/migrations is `NNNN_name.sql`: a `-- phase: expand|contract` line (a
contract step also names the expand it completes: `-- completes: NNNN`), the up step, and
optionally a `-- down` line followed by the step that undoes it. The release
image ships the files its code needs; the database keeps what ran in `schema_migrations`.

    migrate.py status            what is applied and what is pending, one line each
    migrate.py apply expand      the pending expand steps, up to the first contract step
    migrate.py apply contract    the pending contract steps (refused while an expand is pending)
    migrate.py down VERSION      undo the newest applied step, VERSION, by its down step

Run by the deployment in a one-off container of the release image, as an argv (no shell),
with DEMO_DATABASE_URL from the Airflow connection. Every change runs under one advisory lock
(a second run waits, then finds the work done), each step in one transaction with its row in
schema_migrations, so a run killed midway leaves either the step or nothing: running again
converges. Output lines are `<kind> <json>` so the caller parses them, never a shell.
Exit codes: 0 done, 1 refused or failed, 2 usage.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIRECTORY = Path(os.environ.get("DEMO_MIGRATIONS", "/opt/demo/migrations"))
LOCK_KEY = 0x48414E444F4646  # "HANDOFF": one advisory lock for every migration of this store
LOCK_WAIT_S = float(os.environ.get("DEMO_MIGRATION_LOCK_WAIT", "60"))
# Drills only: hold the lock this long before the first step, so a test can run two at once
# or kill one midway.
PAUSE_S = float(os.environ.get("DEMO_MIGRATION_PAUSE_S", "0") or 0)
PHASES = ("expand", "contract")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_PHASE = re.compile(r"^--\s*phase:\s*(\S*)\s*$", re.M)
_COMPLETES = re.compile(r"^--\s*completes:\s*(\d+)\s*$", re.M)
_DOWN = re.compile(r"^--\s*down\s*$", re.M)


@dataclass(frozen=True)
class Migration:
    """One file: its version, declared phase (as written), up and down steps."""

    file: str
    version: int
    phase: str
    completes: int | None
    up: str
    down: str
    checksum: str

    def line(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "version": self.version,
            "phase": self.phase,
            "down": bool(self.down.strip()),
        }


def load(directory: Path = DIRECTORY) -> list[Migration]:
    """Read every migration file, in version order; a bad name or duplicate is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        named = _NAME.match(path.name)
        if not named:
            why = "expected NNNN_name.sql (four digits, lowercase letters, digits, _)"
            raise SystemExit(
                "error " + json.dumps({"file": path.name, "field": "name", "why": why})
            )
        text = path.read_text(encoding="utf-8")
        phase = _PHASE.search(text)
        parts = _DOWN.split(text, maxsplit=1)
        version = int(named.group(1))
        if version in found:
            why = f"{found[version].file} has the same version"
            raise SystemExit(
                "error " + json.dumps({"file": path.name, "field": "version", "why": why})
            )
        found[version] = Migration(
            path.name,
            version,
            phase.group(1) if phase else "",
            int(completes.group(1)) if (completes := _COMPLETES.search(text)) else None,
            parts[0],
            parts[1] if len(parts) > 1 else "",
            hashlib.sha256(text.encode()).hexdigest()[:16],
        )
    return [found[v] for v in sorted(found)]


def emit(kind: str, value: dict[str, Any]) -> None:
    print(f"{kind} {json.dumps(value, sort_keys=True)}", flush=True)


def connect() -> Any:
    import psycopg2  # Debian's python3-psycopg2, in the image only

    url = os.environ.get("DEMO_DATABASE_URL", "")
    if not url:
        raise SystemExit("error " + json.dumps({"field": "DEMO_DATABASE_URL", "why": "unset"}))
    return psycopg2.connect(url, connect_timeout=5, application_name="handoff-migrate")


def applied(db: Any) -> dict[int, str]:
    """Return version -> checksum of what ran (nothing when the table is not there yet)."""
    with db.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute("SELECT version, checksum FROM schema_migrations")
        return {int(v): str(c) for v, c in cur.fetchall()}


def status(db: Any, migrations: list[Migration]) -> int:
    done = applied(db)
    db.rollback()
    known = {m.version: m for m in migrations}
    emit(
        "database",
        {
            "reachable": True,
            "version": max(done, default=0),
            "applied": len(done),
            "release_version": max(known, default=0),
        },
    )
    for version in sorted(set(done) - set(known)):
        emit("unknown-applied", {"version": version})
    for m in migrations:
        if m.version in done and done[m.version] != m.checksum:
            emit("changed", {"file": m.file, "version": m.version})
        if m.version not in done:
            line = m.line()
            if m.completes is not None:  # the completed step's phase, from this release's files
                completed = known.get(m.completes)
                line["completes"] = m.completes
                line["completes_phase"] = completed.phase if completed else ""
            emit("pending", line)
    return 0


def locked(db: Any) -> None:
    """Take the migration lock, waiting at most LOCK_WAIT_S (the caller's timeout bounds all)."""
    deadline = time.monotonic() + LOCK_WAIT_S
    waited = False
    db.autocommit = True
    with db.cursor() as cur:
        while True:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            if cur.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                raise SystemExit("error " + json.dumps({"why": "migration lock not free"}))
            if not waited:
                emit("lock", {"waiting": True})
                waited = True
            time.sleep(0.2)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " file TEXT NOT NULL, phase TEXT NOT NULL, checksum TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    emit("lock", {"held": True, "waited": waited})
    db.autocommit = False


def step(db: Any, m: Migration, sql: str, record: bool) -> None:
    """Run one step and its bookkeeping in one transaction: all of it or nothing."""
    started = time.monotonic()
    with db.cursor() as cur:
        cur.execute(sql)
        if record:
            cur.execute(
                "INSERT INTO schema_migrations (version, file, phase, checksum)"
                " VALUES (%s, %s, %s, %s)",
                (m.version, m.file, m.phase, m.checksum),
            )
        else:
            cur.execute("DELETE FROM schema_migrations WHERE version = %s", (m.version,))
    db.commit()
    kind = "applied" if record else "undone"
    emit(kind, {**m.line(), "seconds": round(time.monotonic() - started, 3)})


def apply(db: Any, migrations: list[Migration], phase: str) -> int:
    locked(db)
    time.sleep(PAUSE_S)
    done = applied(db)  # read under the lock: what a run before this one did is skipped
    pending = [m for m in migrations if m.version not in done]
    for m in pending:
        if m.phase not in PHASES:
            emit("refused", {"file": m.file, "field": "phase", "found": m.phase})
            return 1
        if m.phase == "contract" and m.completes is None:
            emit("refused", {"file": m.file, "field": "completes", "why": "no expand before it"})
            return 1
        if m.phase != phase:
            if phase == "contract" and m.phase == "expand":
                emit("refused", {"file": m.file, "why": "an expand step is pending before it"})
                return 1
            emit("stopped", {"file": m.file, "phase": m.phase})
            break
        try:
            step(db, m, m.up, record=True)
        except Exception as exc:  # psycopg2.Error: the step's transaction is rolled back
            db.rollback()
            emit("failed", {"file": m.file, "error": str(exc).strip().splitlines()[0][:200]})
            emit("database", {"version": max(applied(db), default=0)})
            return 1
    emit("database", {"version": max(applied(db), default=0)})
    return 0


def down(db: Any, migrations: list[Migration], version: int) -> int:
    locked(db)
    done = applied(db)
    if version not in done:
        emit("database", {"version": max(done, default=0), "undone": None})
        return 0  # already undone: a retried rollback converges
    target = next((m for m in migrations if m.version == version), None)
    if version != max(done) or target is None or not target.down.strip():
        emit("refused", {"version": version, "why": "not the newest step, or no down step"})
        return 1
    step(db, target, target.down, record=False)
    emit("database", {"version": max(applied(db), default=0)})
    return 0


def main(argv: list[str]) -> int:
    usage = "usage: migrate.py status | apply expand|contract | down VERSION"
    if not argv or argv[0] not in ("status", "apply", "down"):
        print(usage, file=sys.stderr)
        return 2
    migrations = load()
    try:
        db = connect()
    except Exception as exc:  # psycopg2.OperationalError: the message names host and port only
        emit("database", {"reachable": False, "error": str(exc).strip().splitlines()[0][:200]})
        return 1
    try:
        if argv[0] == "status":
            return status(db, migrations)
        if argv[0] == "apply" and len(argv) == 2 and argv[1] in PHASES:
            return apply(db, migrations, argv[1])
        if argv[0] == "down" and len(argv) == 2 and argv[1].isdigit():
            return down(db, migrations, int(argv[1]))
        print(usage, file=sys.stderr)
        return 2
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
