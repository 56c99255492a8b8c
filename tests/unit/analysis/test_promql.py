"""PromQL literals: hostile names stay inside their string."""

from __future__ import annotations

import json

import pytest

from handoff.analysis.promql import (
    PromQLError,
    duration,
    label_name,
    matchers,
    selector,
    string_literal,
)

HOSTILE = [
    'a"b',
    "back\\slash",
    "trailing\\",
    "new\nline",
    "carriage\rreturn\ttab",
    '"}',
    'x"} or vector(1) or {y="',
    'svc",colour=~".*',
    "\x00nul\x1bescape\x7f",
    "émoji ✓ 🚀",
    "{{ .Value }}",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_round_trips_inside_one_literal(value: str) -> None:
    literal = string_literal(value)
    assert literal.startswith('"') and literal.endswith('"')
    # JSON's escapes are a subset of PromQL's (Go's): decoding gives the value back.
    assert json.loads(literal) == value
    inner = literal[1:-1]
    # No unescaped quote or raw newline can end the literal early.
    assert "\n" not in inner and "\r" not in inner
    i = 0
    while i < len(inner):
        if inner[i] == "\\":
            i += 2
            continue
        assert inner[i] != '"', f"unescaped quote in {literal}"
        i += 1


def test_injection_attempt_stays_one_matcher() -> None:
    text = matchers({"service": 'x"} or vector(1) or {y="'})
    assert text == '{service="x\\"} or vector(1) or {y=\\""}'


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(PromQLError, match="not valid Unicode"):
        string_literal("bad\ud800")


@pytest.mark.parametrize("name", ["", "1abc", "a-b", 'a"', "__name__", "a b", "a\n"])
def test_bad_label_names_are_refused(name: str) -> None:
    with pytest.raises(PromQLError, match="label name"):
        label_name(name)


def test_selector_checks_the_metric_name_and_escapes_regex_values() -> None:
    assert selector("up", {"job": "a"}, {"code": "5.."}) == 'up{job="a",code=~"5.."}'
    with pytest.raises(PromQLError, match="metric name"):
        selector("up{x}", {})


def test_duration_is_whole_seconds() -> None:
    assert duration(60) == "60s"
    for bad in (0, 0.5, 1.5, -3):
        with pytest.raises(PromQLError):
            duration(bad)
