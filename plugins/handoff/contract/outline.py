"""The neutral shape every contract form is read into before its values are typed.

Markdown and JSON contracts both become an `Outline`: header fields (id, from, to, ...) and
sections of labelled entries with source lines. One interpreter then types the values, so the
forms cannot drift apart in what they understand.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from handoff.contract.model import ContractForm


class FieldKey(enum.Enum):
    """Header fields of a contract."""

    HANDOFF_ID = "handoff id"
    FROM = "from"
    TO = "to"
    TIMESTAMP = "timestamp"
    TITLE = "title"
    SCHEMA = "schema"


class SectionKey(enum.Enum):
    """Sections of a contract."""

    DETAILS = "handoff details"
    OBJECTIVE = "objective"
    CONTEXT = "context"
    INPUTS = "inputs"
    ACCEPTANCE_CRITERIA = "acceptance criteria"
    ARTIFACTS = "artifacts"
    DEPENDENCIES = "dependencies"
    SUCCESS_METRICS = "success metrics"
    PERFORMANCE_TARGETS = "performance targets"
    RISKS = "risk assessment"
    COMMUNICATION_PLAN = "communication plan"
    TIMELINE = "timeline"
    QUALITY_GATES = "quality gates"
    NEXT_STEPS = "next steps"


_FIELD_NAMES = {
    "handoff id": FieldKey.HANDOFF_ID,
    "contract id": FieldKey.HANDOFF_ID,
    "handoff": FieldKey.HANDOFF_ID,
    "id": FieldKey.HANDOFF_ID,
    "from": FieldKey.FROM,
    "sender": FieldKey.FROM,
    "to": FieldKey.TO,
    "recipient": FieldKey.TO,
    "recipients": FieldKey.TO,
    "timestamp": FieldKey.TIMESTAMP,
    "created": FieldKey.TIMESTAMP,
    "created at": FieldKey.TIMESTAMP,
    "date": FieldKey.TIMESTAMP,
    "title": FieldKey.TITLE,
    "schema": FieldKey.SCHEMA,
    "version": FieldKey.SCHEMA,
}

_SECTION_NAMES = {
    "handoff details": SectionKey.DETAILS,
    "details": SectionKey.DETAILS,
    "metadata": SectionKey.DETAILS,
    "objective": SectionKey.OBJECTIVE,
    "objectives": SectionKey.OBJECTIVE,
    "goal": SectionKey.OBJECTIVE,
    "context": SectionKey.CONTEXT,
    "background": SectionKey.CONTEXT,
    "inputs": SectionKey.INPUTS,
    "acceptance criteria": SectionKey.ACCEPTANCE_CRITERIA,
    "artifacts": SectionKey.ARTIFACTS,
    "deliverables": SectionKey.ARTIFACTS,
    "dependencies": SectionKey.DEPENDENCIES,
    "success metrics": SectionKey.SUCCESS_METRICS,
    "metrics": SectionKey.SUCCESS_METRICS,
    "performance targets": SectionKey.PERFORMANCE_TARGETS,
    "risk assessment": SectionKey.RISKS,
    "risks": SectionKey.RISKS,
    "communication plan": SectionKey.COMMUNICATION_PLAN,
    "communication": SectionKey.COMMUNICATION_PLAN,
    "communications": SectionKey.COMMUNICATION_PLAN,
    "timeline": SectionKey.TIMELINE,
    "schedule": SectionKey.TIMELINE,
    "quality gates": SectionKey.QUALITY_GATES,
    "next steps": SectionKey.NEXT_STEPS,
}

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=4096)
def normalize_name(name: str) -> str:
    """Reduce a heading, label or JSON key to lowercase words: 'handoffId' -> 'handoff id'."""
    return _NOT_WORD.sub(" ", _CAMEL.sub(" ", name).lower()).strip()


def field_key(name: str) -> FieldKey | None:
    """Return the header field a label names, if any."""
    return _FIELD_NAMES.get(normalize_name(name))


def section_key(name: str) -> SectionKey | None:
    """Return the section a heading or label names, if any ('🎯 Objective' included)."""
    return _SECTION_NAMES.get(normalize_name(name))


@dataclass(slots=True)
class Entry:
    """A line of content: `**label**: text`, a checkbox item, or plain text."""

    label: str | None
    text: str
    line: int
    checked: bool | None = None
    children: list[Entry] = field(default_factory=list)
    # Prose is a free paragraph (an intro or closing sentence), not an item of a list.
    prose: bool = False

    def walk(self) -> Iterator[Entry]:
        """Yield this entry and its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def child(self, label: str) -> Entry | None:
        """Return the child entry with a label (compared loosely), if any."""
        wanted = normalize_name(label)
        return next(
            (c for c in self.children if c.label and normalize_name(c.label) == wanted), None
        )


@dataclass(slots=True)
class Group:
    """The entries under one sub-heading of a section (or the section's own, unnamed)."""

    name: str | None
    line: int
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Section:
    """One section of a contract and its groups."""

    key: SectionKey
    title: str
    line: int
    level: int
    groups: list[Group] = field(default_factory=list)

    def current_group(self) -> Group:
        """Return the group new entries go to, creating the unnamed one when needed."""
        if not self.groups:
            self.groups.append(Group(None, self.line))
        return self.groups[-1]

    def entries(self) -> Iterator[tuple[Group, Entry]]:
        """Yield every top-level entry with its group."""
        for group in self.groups:
            for entry in group.entries:
                yield group, entry

    def text(self) -> str:
        """Return the section's content as plain text, one entry per line."""
        lines = []
        for _, top in self.entries():
            for entry in top.walk():
                lines.append(f"{entry.label}: {entry.text}" if entry.label else entry.text)
        return "\n".join(line.strip() for line in lines if line.strip())


@dataclass
class Outline:
    """A contract read into fields and sections, before any value is typed."""

    form: ContractForm
    title: str | None = None
    has_marker: bool = False
    fields: dict[FieldKey, Entry] = field(default_factory=dict)
    sections: dict[SectionKey, Section] = field(default_factory=dict)
    unknown: list[tuple[str, int]] = field(default_factory=list)

    def all_entries(self) -> Iterator[Entry]:
        """Yield every entry of every section, nested ones included."""
        for section in self.sections.values():
            for _, top in section.entries():
                yield from top.walk()
