"""The operator of every Python step of a handoff DAG: a PythonOperator that templates nothing.

PythonOperator renders its ``op_kwargs`` with Jinja. A step's only arguments are the contract's
path and a few words the project writes; a contract file named ``{{ conn.x.password }}.md``
would have its name rendered (the secret would then travel in error messages and Slack
escalations). Nothing a step needs is templated, so nothing is: arguments are data.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow.providers.standard.operators.python import PythonOperator


class StepOperator(PythonOperator):
    """A PythonOperator whose arguments are passed as they are, never rendered as templates."""

    template_fields: Sequence[str] = ()
