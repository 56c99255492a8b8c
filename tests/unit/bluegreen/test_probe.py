"""Consecutive-answer streaks with deadlines and early give-up."""

from __future__ import annotations

from collections.abc import Iterator

from handoff.bluegreen import Colour
from handoff.bluegreen.probe import Answer, StreakResult, until_streak

GOOD = Answer(200, "green", 0.001)
BAD = Answer(503, "green", 0.001)


def answers(*seq: Answer) -> Iterator[Answer]:
    yield from seq
    while True:
        yield BAD


def run(seq: Iterator[Answer], threshold: int = 3, give_up: str | None = None) -> StreakResult:
    return until_streak(
        lambda: next(seq),
        lambda a: a.healthy_from(Colour.GREEN),
        threshold,
        deadline_s=0.2,
        interval_s=0.0,
        give_up=lambda: give_up,
    )


def test_streak_must_be_consecutive() -> None:
    result = run(answers(GOOD, GOOD, BAD, GOOD, GOOD, GOOD))
    assert result.reached and result.requests == 6 and result.healthy == 5


def test_deadline_ends_a_streak_that_never_comes() -> None:
    result = run(answers(BAD))
    assert not result.reached and result.last == BAD


def test_give_up_stops_at_once() -> None:
    result = run(answers(BAD), give_up="container exited")
    assert not result.reached and result.requests == 1


def test_answer_from_the_other_colour_is_not_healthy() -> None:
    assert not Answer(200, "blue", 0.0).healthy_from(Colour.GREEN)
