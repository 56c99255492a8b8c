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
    return safe_doc_md(
        f"**Plan** (from `{contract.source.path.name}`, sha256 `{contract.source.sha256[:12]}`)\n\n"
        f"```text\n{render_plan(handoff.plan)}\n```\n\n---\n\n{text}"
    )


def safe_doc_md(text: str) -> str:
    """Return markdown Airflow keeps as text: it opens a doc_md ending in `.md` as a file.

    A contract whose last line ends in ".md" (no final newline) made the DAG fail with
    `OSError: File name too long`; a short one would have had Airflow read a file instead.
    A final newline keeps the text the same to a reader and never ends in ".md".
    """
    return text if text.endswith("\n") else f"{text}\n"
