"""Evidence records: what each acceptance check measured and decided, stored per run."""

from handoff.evidence.model import Evidence, EvidenceStatus
from handoff.evidence.store import EvidenceStore, report_dir_of, run_dir, run_parts
from handoff.safe_paths import UnsafePath

__all__ = [
    "Evidence",
    "EvidenceStatus",
    "EvidenceStore",
    "UnsafePath",
    "report_dir_of",
    "run_dir",
    "run_parts",
]
