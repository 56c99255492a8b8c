"""handoff: HANDOFF/V1 deployment contracts executed as Apache Airflow 3 DAGs.

Layers, each importing only those above it: `contract` (parse), `acceptance` (sidecar and
environment settings), `plan` (derive the timeline), then the Airflow-facing modules.
"""
