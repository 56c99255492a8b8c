"""A check's decision about one thing it measured (an endpoint, a page, a journey...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoff.evidence.model import EvidenceStatus


@dataclass(frozen=True)
class Finding:
    """What a check decided, why (one line a reviewer reads), and the numbers behind it."""

    status: EvidenceStatus
    summary: str
    measured: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Tell whether the finding fails its criterion."""
        return self.status is EvidenceStatus.FAILED
