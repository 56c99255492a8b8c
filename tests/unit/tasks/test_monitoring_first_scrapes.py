"""The monitoring verification waits for what it judges: every running colour's resources."""

from __future__ import annotations

from handoff.checks.observed import Observed
from handoff.tasks.monitoring import _first_scrapes_in

JOBS = {"haproxy": 1.0, "service": 1.0}
BOTH = {"cpu_cores": 0.01, "resident_bytes": 17e6}


def seen(resources: dict[str, dict[str, float]]) -> Observed:
    return Observed(True, jobs_up=JOBS, latency_series=("/health",), resources=resources)


def test_a_colour_scraped_once_is_waited_for_like_the_live_one() -> None:
    # Memory after one scrape, the CPU rate only after two: judging now would fail it.
    assert not _first_scrapes_in(
        seen({"blue": BOTH, "green": {"resident_bytes": 17e6}}), "blue", ["/health"]
    )
    assert not _first_scrapes_in(seen({"blue": {"resident_bytes": 17e6}}), "blue", ["/health"])


def test_every_colour_with_both_series_or_none_at_all_is_ready() -> None:
    assert _first_scrapes_in(seen({"blue": BOTH, "green": BOTH}), "blue", ["/health"])
    assert _first_scrapes_in(seen({"blue": BOTH, "green": {}}), "blue", ["/health"])
    assert not _first_scrapes_in(seen({"blue": BOTH}), "blue", ["/health", "/version"])
