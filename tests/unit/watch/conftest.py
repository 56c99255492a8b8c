"""The trigger and operator tests import Airflow: give it a private home first."""

from __future__ import annotations

from tests.support.airflow_home import use_private_airflow_home

use_private_airflow_home()
