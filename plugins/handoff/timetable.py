"""The schedule of an accepted handoff with a fixed deploy time: one run, at the notice time.

The run starts at deploy_at minus the contract's notice lead, sends the notice, then waits
(deferred) for the deploy time. Registered by the plugin so the scheduler can deserialize it;
the UI's Schedule column shows its summary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class NoticeTimetable(Timetable):
    """Run once at the notice time of a handoff whose deploy time is fixed."""

    periodic = False
    run_ordering = ("logical_date",)

    def __init__(self, notice_at: datetime, deploy_at: datetime) -> None:
        self.notice_at = notice_at.astimezone(UTC)
        self.deploy_at = deploy_at.astimezone(UTC)
        self.description = (
            f"Once: the pre-deploy notice at {_when(self.notice_at)}, "
            f"then the deployment at {_when(self.deploy_at)}"
        )

    @property
    def summary(self) -> str:
        """Return the Schedule column's text."""
        return f"notice {_when(self.notice_at)}, deploy {_when(self.deploy_at)}"

    def serialize(self) -> dict[str, Any]:
        """Return the timetable's settings for the serialized DAG."""
        return {"notice_at": self.notice_at.isoformat(), "deploy_at": self.deploy_at.isoformat()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        """Rebuild the timetable from `serialize()`."""
        return cls(
            datetime.fromisoformat(data["notice_at"]), datetime.fromisoformat(data["deploy_at"])
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoticeTimetable) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash((self.notice_at, self.deploy_at))

    def infer_manual_data_interval(self, *, run_after: Any) -> DataInterval:
        """Manual runs cover just their trigger time."""
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        """Schedule the one run at the notice time, unless it already ran."""
        if last_automated_data_interval is not None:
            return None
        if restriction.latest is not None and self.notice_at > restriction.latest:
            return None
        return DagRunInfo.exact(self.notice_at)  # type: ignore[arg-type]
