"""Shared paths for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = ROOT / "include" / "handoffs" / "PROD-DEPLOYMENT-001.md"


@pytest.fixture
def seed_path() -> Path:
    return SEED
