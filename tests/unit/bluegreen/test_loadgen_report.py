"""What a load report concludes from its samples."""

from __future__ import annotations

from handoff.bluegreen.loadgen import LoadReport, LoadSpec, Sample

SPEC = LoadSpec("127.0.0.1", 1)


def sample(at: float, server: str, ok: bool = True, key: str | None = None) -> Sample:
    return Sample(at, at + 0.01, ok, 200 if ok else 0, server, key)


def report(*samples: Sample) -> LoadReport:
    return LoadReport(SPEC, samples, 0.0, 10.0)


def test_switch_time_runs_until_the_last_answer_from_the_old_colour() -> None:
    run = report(sample(1.0, "blue"), sample(2.0, "blue"), sample(2.5, "green"), sample(3, "green"))
    assert run.all_from_after("green", since=1.5) == 0.5


def test_switch_time_is_none_while_the_old_colour_still_answers_last() -> None:
    run = report(sample(1.0, "green"), sample(2.0, "blue"))
    assert run.all_from_after("green", since=0.5) is None


def test_failures_and_acknowledged_writes() -> None:
    run = report(sample(1, "blue", key="a"), sample(2, "blue", ok=False, key="b"), sample(3, "x"))
    assert run.acknowledged_writes == ("a",)
    assert len(run.failures) == 1
    assert run.describe_failures() == "1x 0"


def timed(at: float, seconds: float) -> Sample:
    return Sample(at, at + seconds, True, 200, "blue")


def test_slowest_request_while_the_switch_ran() -> None:
    run = report(timed(1.0, 0.01), timed(2.1, 1.5), timed(2.5, 0.02), timed(4.0, 3.0))
    assert run.slowest_between(2.0, 3.0) == 1.5


def test_steady_quantile_leaves_out_the_switch_window() -> None:
    samples = [timed(0.1 * i, 0.01 * (i + 1)) for i in range(10)]  # 10..100 ms, before 1 s
    run = report(*samples, timed(2.0, 9.0))
    assert abs(run.steady_quantile(1.5, 3.0, 0.5) - 0.05) < 1e-9
    assert abs(run.steady_quantile(1.5, 3.0) - 0.1) < 1e-9
    assert report().steady_quantile(0.0, 1.0) == 0.0
