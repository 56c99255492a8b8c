"""The trigger and operator tests import Airflow: set up the suite's Airflow environment first."""

from __future__ import annotations

from tests.support.airflow_env import configure_airflow

configure_airflow()
