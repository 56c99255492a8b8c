"""Read JSON contracts (a whole file, or a fenced block in markdown) into an `Outline`.

JSON contracts are written by agents with varying shapes: `from` as a string, a list or an
object with mode/role/timestamp; criteria as strings, objects, or groups of either. Values
become the same entries the markdown reader produces, and each gets the line where its key
appears in the file so errors can point at it.
"""

from __future__ import annotations

import json
from typing import Any

from handoff.contract.header import split_names
from handoff.contract.model import ContractForm
from handoff.contract.outline import (
    Entry,
    FieldKey,
    Group,
    Outline,
    Section,
    field_key,
    section_key,
)

_NAME_KEYS = ("name", "title", "criterion", "label", "metric", "risk", "event", "step", "id")
_TEXT_KEYS = ("description", "text", "detail", "details", "value", "target", "summary")
_CHECK_KEYS = ("checked", "done", "met", "status")
_DONE_WORDS = frozenset({"true", "done", "met", "passed", "complete", "completed", "yes"})


def is_json_contract(value: object) -> bool:
    """Tell whether a decoded JSON value carries the HANDOFF/V1 marker."""
    if not isinstance(value, dict):
        return False
    marker = value.get("schema", value.get("version", ""))
    return isinstance(marker, str) and marker.strip().upper() == "HANDOFF/V1"


class _Lines:
    """Find the line where a key appears, scanning forward so repeated keys resolve in order."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.first_line = first_line
        self.cursor = 0

    def of_key(self, key: str) -> int:
        """Return the line of the next occurrence of a key (or any JSON string)."""
        position = self.text.find(json.dumps(key), self.cursor)
        if position == -1:
            position = self.text.find(json.dumps(key))
        if position == -1:
            return self.first_line
        self.cursor = position + 1
        return self.first_line + self.text.count("\n", 0, position)

    def of_item(self, item: object, fallback: int) -> int:
        """Return the line of a list item: its first key, or the string itself."""
        if isinstance(item, dict) and item:
            return self.of_key(next(iter(item)))
        if isinstance(item, str):
            return self.of_key(item)
        return fallback


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return ""


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in obj and _scalar(obj[key]):
            return _scalar(obj[key])
    return None


def _split_label(text: str) -> tuple[str | None, str]:
    """Read 'Security Verification: no new ports' as a label and its text."""
    name, colon, rest = text.partition(": ")
    if colon and 0 < len(name) <= 60 and not any(ch in name for ch in ".;!?"):
        return name.strip(), rest.strip()
    return None, text


def _checked(obj: dict[str, Any]) -> bool | None:
    for key in _CHECK_KEYS:
        if key in obj:
            return _scalar(obj[key]).lower() in _DONE_WORDS
    return None


class _Builder:
    def __init__(self, lines: _Lines) -> None:
        self.lines = lines

    def entry(self, label: str | None, value: object, line: int) -> Entry:
        """Turn one JSON value into an entry; objects keep their other fields as children."""
        if isinstance(value, dict):
            name = _pick(value, _NAME_KEYS) or label
            text = _pick(value, _TEXT_KEYS) or ""
            children = [
                Entry(key, _scalar(item), self.lines.of_key(key))
                for key, item in value.items()
                if key not in (*_NAME_KEYS, *_TEXT_KEYS, *_CHECK_KEYS) and _scalar(item)
            ]
            if label is not None and name != label:
                text = f"{name}: {text}" if text else name or ""
                name = label
            return Entry(name, text, line, _checked(value), children)
        if isinstance(value, list):
            return Entry(label, "; ".join(_scalar(v) for v in value if _scalar(v)), line)
        text = _scalar(value)
        if label is None:
            label, text = _split_label(text)
        return Entry(label, text, line)

    def groups(self, value: object, line: int) -> list[Group]:
        """Turn a section's value into groups of entries."""
        # {"Group name": [items], ...} is a grouped section; any other shape is one group.
        if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
            return [
                self._group(name, items, self.lines.of_key(name)) for name, items in value.items()
            ]
        return [self._group(None, value, line)]

    def _group(self, name: str | None, value: object, line: int) -> Group:
        group = Group(name, line)
        if isinstance(value, dict):
            for key, item in value.items():
                group.entries.append(self.entry(key, item, self.lines.of_key(key)))
        elif isinstance(value, list):
            for item in value:
                group.entries.append(self.entry(None, item, self.lines.of_item(item, line)))
        else:
            group.entries.append(Entry(None, _scalar(value), line))
        return group


def _party_names(value: object) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, details) for a sender/recipient given as a string, list or object."""
    if isinstance(value, list):
        return [party for item in value for party in _party_names(item)]
    if isinstance(value, dict):
        name = _pick(value, ("name", "role", "mode", "team"))
        return [(name, value)] if name else []
    return [(name, {}) for name in split_names(_scalar(value))]


def _party_entry(label: str, value: object, line: int) -> Entry:
    parties = _party_names(value)
    children = [
        Entry(name, "", line, children=[Entry(k, _scalar(v), line) for k, v in details.items()])
        for name, details in parties
    ]
    return Entry(label, ", ".join(name for name, _ in parties), line, children=children)


def read_json(value: dict[str, Any], text: str, first_line: int, embedded: bool) -> Outline:
    """Read a decoded JSON contract into an outline; `text` is its source for line numbers."""
    form = ContractForm.EMBEDDED_JSON if embedded else ContractForm.JSON
    outline = Outline(form, has_marker=True)
    lines = _Lines(text, first_line)
    builder = _Builder(lines)
    for key, item in value.items():
        line = lines.of_key(key)
        section = section_key(key)
        field = field_key(key)
        if section is not None:
            found = Section(section, key, line, 1)
            found.groups = builder.groups(item, line)
            outline.sections[section] = found
        elif field in (FieldKey.FROM, FieldKey.TO):
            outline.fields[field] = _party_entry(key, item, line)
        elif field is FieldKey.TITLE:
            outline.title = _scalar(item) or None
        elif field is not None:
            outline.fields[field] = Entry(key, _scalar(item), line)
        else:
            outline.unknown.append((key, line))
    # An agent's `from` object may carry the handoff time when the top level does not.
    sender = outline.fields.get(FieldKey.FROM)
    if FieldKey.TIMESTAMP not in outline.fields and sender is not None:
        stamp = next(
            (c for p in sender.children for c in p.children if c.label == "timestamp"), None
        )
        if stamp is not None:
            outline.fields[FieldKey.TIMESTAMP] = stamp
    return outline
