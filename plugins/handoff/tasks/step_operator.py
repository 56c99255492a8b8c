"""The operator of every Python step of a handoff DAG: a PythonOperator that templates nothing.

PythonOperator renders its ``op_kwargs`` with Jinja. A step's only arguments are the contract's
path and a few words the project writes; a contract file named ``{{ conn.x.password }}.md``
would have its name rendered (the secret would then travel in error messages and Slack
escalations). Nothing a step needs is templated, so nothing is: arguments are data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator


class StepOperator(PythonOperator):
    """A PythonOperator whose arguments are passed as they are, never rendered as templates.

    ``contract_path`` (from ``op_kwargs``) is kept as a plain string field of the serialized
    task: without a template field nothing else of the arguments is serialized, and the
    Handoffs page finds each DAG's contract from it (DAGs may come from any loader file).
    """

    template_fields: Sequence[str] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        path = (kwargs.get("op_kwargs") or {}).get("contract_path")
        self.contract_path: str | None = str(path) if path is not None else None

    @classmethod
    def get_serialized_fields(cls) -> frozenset[str]:
        """Serialize ``contract_path`` too (a string, so it round-trips as it is)."""
        fields = super().get_serialized_fields()  # type: ignore[no-untyped-call]
        return frozenset(fields | {"contract_path"})
