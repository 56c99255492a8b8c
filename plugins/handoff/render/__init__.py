"""Render handoff plans into Airflow DAGs (the only layer that builds Airflow objects)."""
