"""The service lease as the tasks see it: who holds it, and what an attempt to take it found.

A handoff leases its service from its deploy until its handover, abort or rollback is done,
so whole handoffs never interleave. How a target embodies the lease (for Docker + HAProxy: a
container created and never started, `handoff.bluegreen.lease`) is its own business; owners
are opaque strings, and the caller says whether a holder has ended.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Returns why a holder has ended ("run ... ended failed"), or None while it may still run.
EndedCheck = Callable[[str], str | None]


class LeaseOutcome(enum.Enum):
    """What an attempt to acquire the lease found."""

    TAKEN = "taken"
    ALREADY_OURS = "already ours"
    HELD_BY_OTHER = "held by another owner"


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a service's lease, since when and for what.

    ``container_id`` identifies the lease's marker on the target (for Docker: the lease
    container), so a stale lease is broken exactly and never a fresh one of the same name.
    """

    owner: str
    since: datetime
    purpose: str
    container_id: str

    def held_for(self, now: datetime | None = None) -> timedelta:
        """Return how long the lease has been held."""
        return (now or datetime.now(UTC)) - self.since

    def describe(self) -> str:
        """Return 'owner (purpose) since <time>, <n> s ago' for logs and errors."""
        return (
            f"{self.owner} ({self.purpose}) since {self.since.isoformat(timespec='seconds')}, "
            f"{self.held_for().total_seconds():.0f} s ago"
        )


@dataclass(frozen=True)
class Acquisition:
    """The result of acquiring the lease: the holder now, and any stale lease broken."""

    outcome: LeaseOutcome
    holder: LeaseHolder
    broken: tuple[tuple[LeaseHolder, str], ...] = ()

    @property
    def acquired(self) -> bool:
        """Tell whether the caller holds the lease now."""
        return self.outcome is not LeaseOutcome.HELD_BY_OTHER
