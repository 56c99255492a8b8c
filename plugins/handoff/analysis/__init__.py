"""Metric analysis over Prometheus: queries, verdicts, baseline comparison, alert rules.

Pure modules (``promql``, ``queries``, ``verdict``, ``baseline``, ``alert_rules``,
``defaults``) and one asynchronous HTTP client (``prometheus``). No Airflow and no Docker
import: the checks registry and the watch trigger wire these in.
"""
