"""Run-time helpers shared by tasks: run settings and the engine for a handoff (no Airflow)."""
