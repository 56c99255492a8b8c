"""Shared paths for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create Airflow's metadata database once per session (for dag.test())."""
    from airflow.utils import db

    db.resetdb()
