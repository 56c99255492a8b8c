"""The HANDOFF/V1 contract: typed model and parser (pure Python, no Airflow import)."""

from handoff.contract.model import Contract
from handoff.contract.parser import ContractResult, load_contract, parse_contract

__all__ = ["Contract", "ContractResult", "load_contract", "parse_contract"]
