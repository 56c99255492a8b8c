"""Airflow DAG loader of the broken contracts: one import error naming them all, no DAG.

The DAGs themselves come from handoffs_<i>_of_<n>.py, which never raise: Airflow 3.3 marks
every DAG of a file that has an import error stale, so a broken contract beside good ones
would stop the good ones' runs. This file's import error lists each broken contract's
file and line, and each run in flight kept on the version it started with.
"""

from handoff.render.loader import publish_errors

publish_errors(globals(), __file__)
