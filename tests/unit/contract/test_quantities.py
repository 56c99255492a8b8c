"""Durations, percentages and bounds read from contract prose."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.contract.quantities import (
    Bound,
    Unit,
    find_named_targets,
    find_threshold,
    format_seconds,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "bound", "value", "unit"),
    [
        ("<60 minutes from initiation", Bound.AT_MOST, 3600, Unit.SECONDS),
        ("0 minutes (blue-green deployment)", Bound.EXACTLY, 0, Unit.SECONDS),
        ("<1% error rate post-deployment", Bound.AT_MOST, 1, Unit.PERCENT),
        ("All targets maintained (±10% tolerance)", Bound.TOLERANCE, 10, Unit.PERCENT),
        ("+/- 5 % drift", Bound.TOLERANCE, 5, Unit.PERCENT),
        ("24-hour notification to stakeholders", Bound.EXACTLY, 86400, Unit.SECONDS),
        ("Scheduled within 48 hours of handoff acceptance", Bound.AT_MOST, 172800, Unit.SECONDS),
        ("<3s dashboard loads", Bound.AT_MOST, 3, Unit.SECONDS),
        ("p95 under 250ms", Bound.AT_MOST, 0.25, Unit.SECONDS),
        ("at least 99.9% availability", Bound.AT_LEAST, 99.9, Unit.PERCENT),
        ("2 days of soak", Bound.EXACTLY, 172800, Unit.SECONDS),
    ],
)
def test_find_threshold(text: str, bound: Bound, value: float, unit: Unit) -> None:
    threshold = find_threshold(text)
    assert threshold is not None
    assert (threshold.bound, threshold.value, threshold.unit) == (bound, pytest.approx(value), unit)


@pytest.mark.parametrize("text", ["UX Phase 2 enhancements", "all quality gates passed", ""])
def test_no_threshold_in_plain_prose(text: str) -> None:
    assert find_threshold(text) is None


def test_unit_filter_skips_other_quantities() -> None:
    threshold = find_threshold("100% of checks within 5 minutes", Unit.SECONDS)
    assert threshold is not None and threshold.duration == timedelta(minutes=5)


def test_threshold_allows() -> None:
    at_most = find_threshold("<1%")
    tolerance = find_threshold("±10%")
    assert at_most and tolerance
    assert at_most.allows(0.99) and at_most.allows(1.0) and not at_most.allows(1.01)
    assert tolerance.allows(-9.5) and not tolerance.allows(10.5)


def test_named_targets_from_prose() -> None:
    targets = find_named_targets(
        "Performance targets met (<3s dashboard loads, <2s AI optimization)"
    )
    assert [(t.name, t.threshold.value) for t in targets] == [
        ("dashboard loads", 3.0),
        ("AI optimization", 2.0),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("30 minutes", timedelta(minutes=30)),
        ("1.5 hours", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "<30 minutes", "10%", ""])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (259200, 3600, 1800, 3, 0.25)] == [
        "72 h",
        "60 min",
        "30 min",
        "3 s",
        "250 ms",
    ]
