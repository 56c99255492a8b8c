#!/usr/bin/env python3
"""Integrity check of the demo store, for the sidecar's checks.data_integrity.command.

Run in a one-off container of the release image with the service's environment and volume:
exit 0 when the store at DEMO_DB is readable, SQLite's own integrity check passes and every
record's body is the JSON document that was acknowledged for its key; exit 1 otherwise,
printing what is wrong (at most a few examples) and a one-line summary last.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

DB_PATH = os.environ.get("DEMO_DB", "/data/records.db")
EXAMPLES = 5


def problems(db: sqlite3.Connection) -> tuple[int, list[str]]:
    """Return the number of records and what is inconsistent about them."""
    found = []
    verdict = str(db.execute("PRAGMA integrity_check").fetchone()[0])
    if verdict != "ok":
        found.append(f"SQLite integrity_check: {verdict}")
    count = 0
    for record_id, key, body in db.execute("SELECT id, key, body FROM records ORDER BY id"):
        count += 1
        try:
            named = json.loads(body).get("key")
        except (ValueError, AttributeError):
            found.append(f"record {record_id} ({key}): body is not a JSON object")
            continue
        if str(named) != key:
            found.append(f"record {record_id}: stored as {key!r} but its body names {named!r}")
    return count, found


def main() -> int:
    """Check the store; print the findings; return the exit code."""
    if not Path(DB_PATH).is_file():
        print(f"store {DB_PATH}: missing (is the data volume mounted?)")
        return 1
    try:
        db = sqlite3.connect(DB_PATH, timeout=30)
        db.execute("PRAGMA query_only=ON")  # a check never changes what it checks
        count, found = problems(db)
    except sqlite3.Error as exc:
        print(f"store {DB_PATH}: unreadable: {exc}")
        return 1
    for line in found[:EXAMPLES]:
        print(line)
    if found:
        print(f"store {DB_PATH}: {len(found)} problems in {count} records")
        return 1
    print(f"store {DB_PATH}: {count} records, integrity_check ok, every body matches its key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
