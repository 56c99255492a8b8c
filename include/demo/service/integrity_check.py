#!/usr/bin/env python3
"""Integrity check of the demo store, for the sidecar's checks.data_integrity.command.

Run in a one-off container of the release image with the service's environment and volume:
exit 0 when the store is readable, its engine's own checks pass and every record's body is
the JSON document that was acknowledged for its key; exit 1 otherwise, printing what is
wrong (at most a few examples) and a one-line summary last. The store is the one the service
uses: PostgreSQL when DEMO_DATABASE_URL is set (read in a read-only transaction), else the
SQLite file at DEMO_DB. The URL's password is never printed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DB_PATH = os.environ.get("DEMO_DB", "/data/records.db")
DATABASE_URL = os.environ.get("DEMO_DATABASE_URL", "")
EXAMPLES = 5


def body_problems(rows: Iterable[tuple[Any, Any, Any]]) -> tuple[int, list[str]]:
    """Count the records and name each whose body is not the document acknowledged for it."""
    found = []
    count = 0
    for record_id, key, body in rows:
        count += 1
        try:
            named = json.loads(body).get("key")
        except (ValueError, AttributeError):
            found.append(f"record {record_id} ({key}): body is not a JSON object")
            continue
        if str(named) != key:
            found.append(f"record {record_id}: stored as {key!r} but its body names {named!r}")
    return count, found


def problems(db: sqlite3.Connection) -> tuple[int, list[str]]:
    """Return the number of records and what is inconsistent about them."""
    found = []
    verdict = str(db.execute("PRAGMA integrity_check").fetchone()[0])
    if verdict != "ok":
        found.append(f"SQLite integrity_check: {verdict}")
    count, bodies = body_problems(db.execute("SELECT id, key, body FROM records ORDER BY id"))
    return count, found + bodies


def check_postgres(url: str) -> int:
    """The PostgreSQL store: ids and keys unique, every body the document of its key."""
    import psycopg2  # Debian's python3-psycopg2, in the image only

    where = "PostgreSQL store"  # the URL holds the password: never printed
    try:
        db = psycopg2.connect(url, connect_timeout=5, application_name="demo-integrity-check")
        db.set_session(readonly=True)  # a check never changes what it checks
        with db, db.cursor() as cur:
            cur.execute(
                "SELECT count(*) - count(DISTINCT id), count(*) - count(DISTINCT key) FROM records"
            )
            twin_ids, twin_keys = cur.fetchone()
            cur.execute("SELECT id, key, body FROM records ORDER BY id")
            count, found = body_problems(cur)
        db.close()
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"{where}: unreadable: {first}")
        return 1
    if twin_ids or twin_keys:
        found.insert(0, f"{twin_ids} repeated id(s) and {twin_keys} repeated key(s)")
    return report(where, count, found, "ids and keys unique")


def report(where: str, count: int, found: list[str], engine_check: str) -> int:
    """Print the findings (a few examples, then the summary); return the exit code."""
    for line in found[:EXAMPLES]:
        print(line)
    if found:
        print(f"{where}: {len(found)} problems in {count} records")
        return 1
    print(f"{where}: {count} records, {engine_check}, every body matches its key")
    return 0


def main() -> int:
    """Check the store; print the findings; return the exit code."""
    if DATABASE_URL:
        return check_postgres(DATABASE_URL)
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
    return report(f"store {DB_PATH}", count, found, "integrity_check ok")


if __name__ == "__main__":
    sys.exit(main())
