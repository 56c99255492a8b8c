"""Type the sections of a contract: criteria, metrics, risks, messages, windows, items.

Each function reads one section of an `Outline` and returns typed values plus the
diagnostics for anything it could not type. Keyword rules decide what a line is about
(e.g. which success metric is the error rate); they are listed here, in one place, in order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from handoff.contract.model import (
    Anchor,
    CommunicationEvent,
    CommunicationKind,
    Criterion,
    ImpactLevel,
    Item,
    MetricKind,
    PerformanceTarget,
    Risk,
    RollbackTarget,
    SuccessMetric,
    TimelineWindow,
    WindowKind,
)
from handoff.contract.outline import Entry, Outline, SectionKey, normalize_name
from handoff.contract.quantities import (
    NamedTarget,
    QuantityError,
    Threshold,
    Unit,
    find_named_targets,
    find_threshold,
)
from handoff.errors import Diagnostic, Severity

K = TypeVar("K")

# Keyword rules: the first rule whose words all appear in a line's normalized name wins.
_METRIC_RULES: list[tuple[tuple[str, ...], MetricKind]] = [
    (("deploy", "time"), MetricKind.DEPLOYMENT_TIME),
    (("downtime",), MetricKind.DOWNTIME),
    (("error",), MetricKind.ERROR_RATE),
    (("performance",), MetricKind.PERFORMANCE),
    (("latency",), MetricKind.PERFORMANCE),
    (("user", "impact"), MetricKind.USER_IMPACT),
    (("monitoring",), MetricKind.MONITORING_COVERAGE),
    (("coverage",), MetricKind.MONITORING_COVERAGE),
]
_METRIC_UNITS = {
    MetricKind.DEPLOYMENT_TIME: Unit.SECONDS,
    MetricKind.DOWNTIME: Unit.SECONDS,
    MetricKind.USER_IMPACT: Unit.SECONDS,
    MetricKind.ERROR_RATE: Unit.PERCENT,
    MetricKind.PERFORMANCE: Unit.PERCENT,
    MetricKind.MONITORING_COVERAGE: Unit.PERCENT,
}
_MESSAGE_RULES: list[tuple[tuple[str, ...], CommunicationKind]] = [
    (("rollback",), CommunicationKind.ROLLBACK),
    (("escalation",), CommunicationKind.ESCALATION),
    (("escalate",), CommunicationKind.ESCALATION),
    (("all", "clear"), CommunicationKind.ALL_CLEAR),
    (("post",), CommunicationKind.ALL_CLEAR),
    (("pre",), CommunicationKind.PRE_DEPLOY_NOTICE),
    (("notice",), CommunicationKind.PRE_DEPLOY_NOTICE),
    (("window",), CommunicationKind.STATUS_UPDATES),
    (("status",), CommunicationKind.STATUS_UPDATES),
]
_MESSAGE_ANCHORS = {
    CommunicationKind.PRE_DEPLOY_NOTICE: Anchor.BEFORE_DEPLOY,
    CommunicationKind.STATUS_UPDATES: Anchor.DURING_DEPLOY,
    CommunicationKind.ALL_CLEAR: Anchor.AFTER_DEPLOY,
}
_WINDOW_RULES: list[tuple[tuple[str, ...], WindowKind]] = [
    (("deployment", "window"), WindowKind.DEPLOYMENT_WINDOW),
    (("validation",), WindowKind.VALIDATION_PERIOD),
    (("stabilization",), WindowKind.VALIDATION_PERIOD),
    (("monitoring",), WindowKind.MONITORING_PERIOD),
    (("handover",), WindowKind.HANDOVER),
]
_WINDOW_ANCHORS = {
    WindowKind.DEPLOYMENT_WINDOW: Anchor.AFTER_ACCEPTANCE,
    WindowKind.VALIDATION_PERIOD: Anchor.AFTER_DEPLOY,
    WindowKind.MONITORING_PERIOD: Anchor.AFTER_DEPLOY,
}


def classify(name: str, rules: list[tuple[tuple[str, ...], K]], default: K) -> K:
    """Return the kind of the first rule whose words all appear in `name`."""
    joined = normalize_name(name)
    words = set(joined.split())
    for keywords, kind in rules:
        if all(k in words or (len(k) > 3 and k in joined) for k in keywords):
            return kind
    return default


@dataclass
class SectionReader:
    """Types an outline's sections and collects diagnostics about them."""

    outline: Outline
    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @functools.cached_property
    def everything(self) -> list[Entry]:
        """Every entry of every section, nested ones included, read once."""
        return list(self.outline.all_entries())

    def warn(self, line: int | None, message: str, hint: str | None = None) -> None:
        if any(d.is_error and d.line == line for d in self.diagnostics):
            return  # the line's error says it already
        self.diagnostics.append(Diagnostic(Severity.WARNING, self.path, line, message, hint))

    def refuse(self, line: int | None, problem: QuantityError) -> None:
        found = Diagnostic(
            Severity.ERROR,
            self.path,
            line,
            str(problem),
            "state it as a deployment does, e.g. '48 hours' or '<30 minutes'",
        )
        if found not in self.diagnostics:  # a rollback line is searched more than once
            self.diagnostics.append(found)

    def threshold(self, text: str, unit: Unit | None, line: int) -> Threshold | None:
        """Return the first quantity of a line's text; an unusable one is an error there."""
        try:
            return find_threshold(text, unit)
        except QuantityError as e:
            self.refuse(line, e)
            return None

    def named_targets(self, text: str, line: int) -> list[NamedTarget]:
        try:
            return find_named_targets(text)
        except QuantityError as e:
            self.refuse(line, e)
            return []

    def entries(self, key: SectionKey) -> Iterable[tuple[str | None, Entry]]:
        section = self.outline.sections.get(key)
        if section is None:
            return []
        return ((group.name, entry) for group, entry in section.entries())

    def text(self, key: SectionKey) -> str:
        section = self.outline.sections.get(key)
        return section.text() if section else ""

    def items(self, key: SectionKey) -> tuple[Item, ...]:
        """Return a section's lines as named items; an intro line ending in ':' is skipped."""
        found = []
        for group, entry in self.entries(key):
            if entry.prose:
                continue
            name, text = (entry.label, entry.text) if entry.label else (entry.text, "")
            found.append(Item(name, text, entry.line, group))
        return tuple(found)

    def criteria(self) -> tuple[Criterion, ...]:
        found = []
        for group, entry in self.entries(SectionKey.ACCEPTANCE_CRITERIA):
            if entry.prose:
                continue
            name, text = (entry.label, entry.text) if entry.label else (entry.text, "")
            group_child = entry.child("group") or entry.child("category")
            group_name = group or (group_child.text if group_child else "Acceptance Criteria")
            details = [c.text for c in entry.children if c is not group_child and c.text]
            full_text = " ".join([text, *details]).strip()
            found.append(Criterion(group_name, name, full_text, bool(entry.checked), entry.line))
        return tuple(found)

    def success_metrics(self) -> tuple[SuccessMetric, ...]:
        found = []
        for _, entry in self.entries(SectionKey.SUCCESS_METRICS):
            name = entry.label or entry.text
            kind = classify(name, _METRIC_RULES, MetricKind.OTHER)
            unit = _METRIC_UNITS.get(kind)
            threshold = self.threshold(entry.text, unit, entry.line)
            if threshold is None and kind is not MetricKind.OTHER:
                self.warn(
                    entry.line,
                    f"success metric {name!r}: no threshold in {entry.text!r}; kept as text",
                    f"state it as e.g. '<1%' or '<60 minutes' ({kind.value})",
                )
            found.append(SuccessMetric(kind, name, entry.text, threshold, entry.line))
        return tuple(found)

    def performance_targets(self) -> tuple[PerformanceTarget, ...]:
        found: dict[str, PerformanceTarget] = {}
        for _, entry in self.entries(SectionKey.PERFORMANCE_TARGETS):
            for target in self.named_targets(f"{entry.text} {entry.label or ''}", entry.line):
                found.setdefault(target.name, PerformanceTarget.from_named(target, entry.line))
        for entry in self.everything:
            if "performance target" in entry.text.lower():
                for target in self.named_targets(entry.text, entry.line):
                    found.setdefault(target.name, PerformanceTarget.from_named(target, entry.line))
        return tuple(found.values())

    def risks(self) -> tuple[Risk, ...]:
        found = []
        for group, entry in self.entries(SectionKey.RISKS):
            if entry.prose:
                continue
            label = normalize_name(entry.label or "risk")
            description = entry.text if label == "risk" else (entry.label or "")
            impact = entry.child("impact")
            mitigation = entry.child("mitigation")
            level = _impact_level(impact.text) if impact else None
            if impact is not None and level is None:
                self.warn(impact.line, f"risk impact {impact.text!r} has no LOW/MEDIUM/HIGH rating")
            found.append(
                Risk(
                    group,
                    description,
                    mitigation.text if mitigation else None,
                    level,
                    impact.text if impact else None,
                    entry.line,
                )
            )
        return tuple(found)

    def communication_plan(self) -> tuple[CommunicationEvent, ...]:
        found = []
        for _, entry in self.entries(SectionKey.COMMUNICATION_PLAN):
            name = entry.label or entry.text
            kind = classify(f"{name} {entry.text}", _MESSAGE_RULES, CommunicationKind.OTHER)
            anchor = _MESSAGE_ANCHORS.get(kind, Anchor.ON_EVENT)
            threshold = self.threshold(entry.text, Unit.SECONDS, entry.line)
            offset = threshold.duration if threshold else None
            if offset is None and anchor in (Anchor.BEFORE_DEPLOY, Anchor.AFTER_DEPLOY):
                self.warn(
                    entry.line,
                    f"{kind.value} {name!r}: no time in {entry.text!r}; kept as text",
                    "state it as e.g. '24-hour notification'",
                )
            found.append(CommunicationEvent(kind, name, entry.text, anchor, offset, entry.line))
        return tuple(found)

    def timeline(self) -> tuple[TimelineWindow, ...]:
        found = []
        for _, entry in self.entries(SectionKey.TIMELINE):
            name = entry.label or entry.text
            kind = classify(name, _WINDOW_RULES, WindowKind.OTHER)
            anchor = _WINDOW_ANCHORS.get(kind, Anchor.ON_EVENT)
            threshold = self.threshold(entry.text, Unit.SECONDS, entry.line)
            if threshold is None and kind in _WINDOW_ANCHORS:
                self.warn(
                    entry.line,
                    f"{kind.value} {name!r}: no duration in {entry.text!r}; kept as text",
                    "state it as e.g. '72 hours'",
                )
            duration = threshold.duration if threshold else None
            found.append(TimelineWindow(kind, name, entry.text, anchor, duration, entry.line))
        return tuple(found)

    def rollback_target(self, criteria: tuple[Criterion, ...]) -> RollbackTarget | None:
        """Find the rollback time: the rollback criterion first, then any rollback line."""
        candidates: list[tuple[str, int]] = [
            (f"{c.name} {c.text}", c.line) for c in criteria if "rollback" in c.name.lower()
        ]
        candidates += [
            (f"{e.label or ''} {e.text}", e.line)
            for e in self.everything
            if "rollback" in f"{e.label or ''} {e.text}".lower()
        ]
        for text, line in candidates:
            threshold = self.threshold(text, Unit.SECONDS, line)
            if threshold is not None:
                return RollbackTarget(threshold, line)
        return None


def _impact_level(text: str) -> ImpactLevel | None:
    first = text.split(maxsplit=1)[0].strip("(),.:").upper() if text.strip() else ""
    return ImpactLevel.__members__.get(first)
