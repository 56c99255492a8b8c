"""The DAG's documentation: the plan in brief, then the contract as it was handed over."""

from __future__ import annotations

from handoff.catalog import Handoff
from handoff.contract.model import ContractForm
from handoff.show import render_plan


def dag_doc(handoff: Handoff) -> str:
    """Return markdown for the DAG's doc_md."""
    assert handoff.plan is not None and handoff.contract is not None
    contract = handoff.contract
    text = contract.source.path.read_bytes().decode("utf-8-sig", errors="replace")
    if contract.source.form is ContractForm.JSON:
        text = f"```json\n{text}\n```"
    return (
        f"**Plan** (from `{contract.source.path.name}`, sha256 `{contract.source.sha256[:12]}`)\n\n"
        f"```text\n{render_plan(handoff.plan)}\n```\n\n---\n\n{text}"
    )
