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
    """A PythonOperator whose arguments are passed as they are, never rendered as templates.

    ``contract_path`` (from ``op_kwargs``) is kept as a plain string field of the serialized
    task: without a template field nothing else of the arguments is serialized, and the
    Handoffs page finds each DAG's contract from it (DAGs may come from any loader file).

    No ``__init__`` of its own: Airflow's metaclass wraps every ``__init__`` a class defines in
    one more `apply_defaults` level (default args copied, DAG params deep-copied, the DAG and
    task-group contexts looked up again), about 10 % of a step's construction, paid 20 times per
    DAG. ``contract_path`` is read from ``op_kwargs`` instead, which nothing renders or changes.
    """

    template_fields: Sequence[str] = ()

    @property
    def contract_path(self) -> str | None:
        """The contract's path as given in ``op_kwargs``, as a string (None without one)."""
        path = (self.op_kwargs or {}).get("contract_path")
        return str(path) if path is not None else None

    @classmethod
    def get_serialized_fields(cls) -> frozenset[str]:
        """Serialize ``contract_path`` too (a string, so it round-trips as it is)."""
        fields = super().get_serialized_fields()  # type: ignore[no-untyped-call]
        return frozenset(fields | {"contract_path"})
