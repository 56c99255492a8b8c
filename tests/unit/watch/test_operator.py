"""WatchWindowOperator's arguments: the time scale, validated whether literal or templated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.watch.operator import WatchWindowOperator, parse_time_scale


@pytest.mark.parametrize(
    ("value", "scale"), [(1, 1.0), ("3600", 3600.0), ("2.5", 2.5), (60.0, 60.0)]
)
def test_time_scale_accepts_numbers_and_rendered_strings(value: float | str, scale: float) -> None:
    assert parse_time_scale(value) == scale


@pytest.mark.parametrize("value", ["0.5", "0", "-3", "fast", "", "nan", "inf", None])
def test_time_scale_refuses_anything_but_a_number_from_one_up(value: object) -> None:
    with pytest.raises(ValueError, match="time_scale must be a number >= 1"):
        parse_time_scale(value)  # type: ignore[arg-type]


def make(**overrides: object) -> WatchWindowOperator:
    kwargs: dict[str, object] = {
        "task_id": "validation_period",
        "window": "validation period",
        "duration": timedelta(hours=24),
        "base_url": "http://127.0.0.1:8080",
    }
    kwargs.update(overrides)
    return WatchWindowOperator(**kwargs)  # type: ignore[arg-type]


def test_a_literal_bad_time_scale_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"time_scale must be a number >= 1, got 0\.1"):
        make(time_scale=0.1)


def test_a_templated_time_scale_is_checked_at_run_time() -> None:
    operator = make(time_scale="{{ params.time_scale }}")
    assert "time_scale" in operator.template_fields
    assert "base_url" in operator.template_fields


def test_a_window_needs_a_positive_duration() -> None:
    with pytest.raises(ValueError, match="duration and interval must be positive"):
        make(duration=timedelta(0))
