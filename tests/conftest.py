"""Shared paths for the test suite; the containers a killed test session left are swept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handoff.bluegreen.origin import ORIGIN_ENV, origin_of, sweep_leftovers
from tests.support.airflow_env import configure_airflow

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"


@pytest.fixture
def seed_path() -> Path:
    return SEED


def pytest_configure(config: pytest.Config) -> None:
    """Set up the shared Airflow test environment before any test module imports Airflow."""
    configure_airflow()
    # Every container this session's engines create carries the session's pid (origin.py), so
    # the next session can tell the leftovers of a killed one from a live `make run`'s service
    # or another session's containers on the same engine.
    os.environ[ORIGIN_ENV] = origin_of("pytest")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove the demo containers of test sessions that were killed (never a live one)."""
    for name in sweep_leftovers(["pytest"]):
        print(f"removed leftover test container {name} (its test session is gone)")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create Airflow's metadata database once per session (for dag.test())."""
    from airflow.utils import db

    db.resetdb()
