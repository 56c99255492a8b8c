"""Airflow task callables and operators of a handoff DAG. They call engines; engines never
import this package."""
