"""Parse a HANDOFF/V1 contract file into a typed `Contract`, with every problem found.

Steps: read and repair the text (source), pick the form (JSON file, JSON block in markdown,
markdown), read it into an outline, then type the header and the sections. Problems are
collected, never raised one at a time, so `lint` can show all of them at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.contract import header
from handoff.contract.json_reader import is_json_contract, read_json
from handoff.contract.limits import (
    JsonIntTooLong,
    TooDeep,
    bounded_int,
    int_too_long,
    json_too_deep,
)
from handoff.contract.markdown_reader import MARKER, read_markdown
from handoff.contract.markdown_tree import MarkdownTooDeep, MdNode, parse_markdown, walk
from handoff.contract.model import Contract, Party, Source
from handoff.contract.outline import Entry, FieldKey, Outline, SectionKey
from handoff.contract.sections import SectionReader
from handoff.contract.source import LineIndex, SourceText, read_source
from handoff.errors import Diagnostic, InputError, Severity, errors_in, unexpected

log = logging.getLogger(__name__)

CONTRACT_SUFFIXES = (".md", ".markdown", ".json")


@dataclass(frozen=True)
class ContractResult:
    """A parsed contract (None when it has errors) and every diagnostic about it."""

    path: Path
    contract: Contract | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        """Tell whether the contract parsed without errors."""
        return self.contract is not None


class _Refused(ValueError):
    """Text beyond a limit of `handoff.contract.limits`, located."""

    def __init__(self, problem: TooDeep) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _load_json(text: str, first_line: int) -> Any:
    """Decode JSON within the nesting and number limits, or raise `_Refused`."""
    too_deep = json_too_deep(text, first_line)
    if too_deep is not None:
        raise _Refused(too_deep)
    try:
        return json.loads(text, parse_int=bounded_int)
    except JsonIntTooLong as e:
        raise _Refused(int_too_long(e, text, first_line)) from None


def _refusal(path: Path, problem: TooDeep) -> Diagnostic:
    return Diagnostic(Severity.ERROR, path, problem.line, problem.message, problem.hint)


def _json_outline(source: SourceText, problems: list[Diagnostic]) -> Outline | None:
    try:
        value: Any = _load_json(source.text, 1)
    except _Refused as e:
        problems.append(_refusal(source.path, e.problem))
        return None
    except json.JSONDecodeError as e:
        problems.append(
            Diagnostic(
                Severity.ERROR, source.path, e.lineno, f"invalid JSON: {e.msg} (column {e.colno})"
            )
        )
        return None
    if not is_json_contract(value):
        problems.append(
            Diagnostic(
                Severity.ERROR,
                source.path,
                1,
                "JSON file is not a HANDOFF/V1 contract",
                'expected a top-level object with "schema": "HANDOFF/V1"',
            )
        )
        return None
    return read_json(value, source.text, 1, embedded=False)


def _embedded_json(tree: MdNode) -> Outline | None:
    """Return the outline of the first fenced JSON block marked HANDOFF/V1, if any.

    Raises `_Refused` for a marked block beyond the JSON limits.
    """
    for node in walk(tree):
        if node.name != "fence" or MARKER not in node.content:
            continue
        try:
            value = _load_json(node.content, node.line + 1)
        except json.JSONDecodeError:
            continue
        if is_json_contract(value):
            return read_json(value, node.content, node.line + 1, embedded=True)
    return None


def _outline(source: SourceText, problems: list[Diagnostic]) -> Outline | None:
    if source.path.suffix.lower() == ".json" or source.text.lstrip().startswith("{"):
        return _json_outline(source, problems)
    try:
        tree = parse_markdown(source.text, LineIndex(source.text))
        outline = read_markdown(tree)
        embedded = None
        if FieldKey.HANDOFF_ID not in outline.fields and MARKER in source.text:
            embedded = _embedded_json(tree)
    except (MarkdownTooDeep, _Refused) as e:
        problems.append(_refusal(source.path, e.problem))
        return None
    if embedded is not None:
        return embedded
    outline.has_marker = outline.has_marker or MARKER in source.text
    return outline


class _Interpreter:
    """Turns an outline into a contract, or into the errors that prevent one."""

    def __init__(self, source: SourceText, outline: Outline) -> None:
        self.source = source
        self.outline = outline
        self.sections = SectionReader(outline, source.path)
        self.problems: list[Diagnostic] = []

    def report(
        self, severity: Severity, line: int | None, message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Diagnostic(severity, self.source.path, line, message, hint))

    def required(self, key: FieldKey, expected: str) -> Entry | None:
        entry = self.outline.fields.get(key)
        if entry is None or not entry.text.strip():
            details = self.outline.sections.get(SectionKey.DETAILS)
            self.report(
                Severity.ERROR,
                entry.line if entry else (details.line if details else 1),
                f"no {expected}",
                f"expected a '**{expected}**: ...' line in Handoff Details, "
                f'or "{key.value.replace(" ", "_")}" in JSON',
            )
            return None
        return entry

    def header(self) -> tuple[str, Party, tuple[Party, ...], datetime] | None:
        id_entry = self.required(FieldKey.HANDOFF_ID, "Handoff ID")
        from_entry = self.required(FieldKey.FROM, "From")
        to_entry = self.required(FieldKey.TO, "To")
        time_entry = self.required(FieldKey.TIMESTAMP, "Timestamp")
        if not (id_entry and from_entry and to_entry and time_entry):
            return None
        try:
            handoff_id = header.handoff_id(id_entry)
            stamp, zoned = header.timestamp(time_entry)
        except header.FieldProblem as e:
            line = id_entry.line if "Handoff ID" in str(e) else time_entry.line
            self.report(Severity.ERROR, line, str(e), e.hint)
            return None
        if not zoned:
            self.report(
                Severity.WARNING,
                time_entry.line,
                f"Timestamp {time_entry.text!r} has no time zone; read as UTC",
                "end it with Z or an offset such as +00:00",
            )
        senders = header.parties(from_entry)
        return handoff_id, senders[0], header.parties(to_entry), stamp

    def contract(self) -> Contract | None:
        if not self.outline.has_marker and FieldKey.HANDOFF_ID not in self.outline.fields:
            self.report(
                Severity.ERROR,
                1,
                "not a HANDOFF/V1 contract",
                "expected a '# HANDOFF/V1 Contract' heading or a JSON block with "
                '"schema": "HANDOFF/V1"',
            )
            return None
        head = self.header()
        if head is None:
            return None
        self.notes()
        handoff_id, sender, recipients, stamp = head
        criteria = self.sections.criteria()
        return Contract(
            source=Source(
                self.source.path,
                self.source.sha256,
                self.outline.form,
                self.outline.fields[FieldKey.HANDOFF_ID].line,
            ),
            handoff_id=handoff_id,
            title=self.outline.title or handoff_id,
            sender=sender,
            recipients=recipients,
            timestamp=stamp,
            objective=self.sections.text(SectionKey.OBJECTIVE),
            context=self.sections.text(SectionKey.CONTEXT),
            inputs=self.sections.items(SectionKey.INPUTS),
            acceptance_criteria=criteria,
            artifacts=self.sections.items(SectionKey.ARTIFACTS),
            dependencies=self.sections.items(SectionKey.DEPENDENCIES),
            success_metrics=self.sections.success_metrics(),
            performance_targets=self.sections.performance_targets(),
            risks=self.sections.risks(),
            communication_plan=self.sections.communication_plan(),
            timeline=self.sections.timeline(),
            rollback_target=self.sections.rollback_target(criteria),
            quality_gates=self.sections.items(SectionKey.QUALITY_GATES),
            next_steps=self.sections.items(SectionKey.NEXT_STEPS),
        )

    def notes(self) -> None:
        """Warn about what the plan will miss: absent sections and ignored keys."""
        for key, what in (
            (SectionKey.OBJECTIVE, "objective"),
            (SectionKey.ACCEPTANCE_CRITERIA, "acceptance criteria: nothing can be verified"),
            (SectionKey.SUCCESS_METRICS, "success metrics: project defaults apply"),
            (SectionKey.COMMUNICATION_PLAN, "communication plan: project defaults apply"),
            (SectionKey.TIMELINE, "timeline: project defaults apply"),
        ):
            if key not in self.outline.sections:
                self.report(Severity.WARNING, None, f"no {what}")
        for name, line in self.outline.unknown:
            self.report(Severity.NOTE, line, f"key {name!r} is not part of HANDOFF/V1; ignored")


def parse_contract(path: Path) -> ContractResult:
    """Parse one contract file; never raises for bad content.

    Every limit has its own located error; the last resort turns an exception nobody foresaw
    into this file's error, so one file never stops the others (lint, the loader, the page).
    """
    try:
        return _parse(path)
    except Exception as e:  # the last resort, reported as the file's error
        log.debug("unexpected error while parsing %s", path, exc_info=True)
        return ContractResult(path, None, (unexpected(path, e, "parsing the contract"),))


def _parse(path: Path) -> ContractResult:
    source, problems = read_source(path)
    if source is None:
        return ContractResult(path, None, tuple(problems))
    outline = _outline(source, problems)
    if outline is None:
        return ContractResult(path, None, tuple(problems))
    interpreter = _Interpreter(source, outline)
    contract = interpreter.contract()
    problems += interpreter.problems + interpreter.sections.diagnostics
    if errors_in(problems):
        contract = None
    return ContractResult(path, contract, tuple(problems))


def load_contract(path: Path) -> Contract:
    """Parse one contract file or raise `InputError` with every diagnostic."""
    result = parse_contract(path)
    if result.contract is None:
        raise InputError(result.diagnostics)
    return result.contract
