"""Type the header fields of a contract: handoff id, sender, recipients, timestamp."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from handoff.contract.model import Party
from handoff.contract.outline import Entry

# The handoff id names the DAG, its runs and its reports: keep it to what an Airflow dag_id
# accepts.
HANDOFF_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_PARTY_SEPARATORS = re.compile(r"\s*(?:[,;]|\s&\s)\s*")


class FieldProblem(ValueError):
    """A header field's value is not in the expected form."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def handoff_id(entry: Entry) -> str:
    """Return a valid handoff id or raise `FieldProblem`."""
    value = entry.text.strip().strip("`")
    if not HANDOFF_ID_PATTERN.match(value):
        raise FieldProblem(
            f"Handoff ID {value!r} is not usable as an identifier",
            "use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return value


def parties(entry: Entry) -> tuple[Party, ...]:
    """Return the parties of a From/To field: several names, or JSON objects with a role."""
    if entry.children:
        return tuple(
            Party(
                child.label or child.text,
                role=_child_text(child, "role"),
                mode=_child_text(child, "mode"),
            )
            for child in entry.children
        )
    return tuple(Party(name) for name in split_names(entry.text))


def split_names(text: str) -> list[str]:
    """Split 'SRE On-Call, Payments Team; Platform Ops' into names."""
    return [name.strip() for name in _PARTY_SEPARATORS.split(text) if name.strip()]


def _child_text(entry: Entry, label: str) -> str | None:
    child = entry.child(label)
    return child.text if child is not None and child.text else None


def timestamp(entry: Entry) -> tuple[datetime, bool]:
    """Return the handoff time in UTC and whether the contract gave a time zone."""
    text = entry.text.strip().strip("`")
    candidate = re.sub(r"\s*(UTC|GMT)$", "+00:00", text)
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise FieldProblem(
            f"Timestamp {text!r} is not an ISO 8601 date and time",
            "expected e.g. 2025-10-06T10:40:00Z or 2025-10-06T10:40:00.000+00:00",
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC), False
    return value.astimezone(UTC), True
