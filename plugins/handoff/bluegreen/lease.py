"""One handoff at a time per service: a lease a run holds from its deploy until it is done.

The deployment lock (`handoff.bluegreen.lock`) keeps single operations apart for seconds,
but whole handoffs could still interleave: A deploys, B deploys into the same idle colour,
A switches (the engine refuses, and A fails instead of waiting). So a handoff leases the
service for as long as it owns the idle colour: from its deploy until its handover, abort or
rollback is done. Like the lock, the lease is a container created and never started, named
after the service, on the engine every worker shares (Celery workers on other hosts
included): creating the name is the atomic acquire, and its labels say who holds it and since
when.

A lease has no expiry, because a handoff rightly holds it for days (the 72 h monitoring
window). Instead the caller says whether a holder has ended (for a handoff: is its Airflow
run still running?), and a lease whose holder has ended is stale: it is broken, by exact
container id so two breakers cannot remove each other's fresh lease, and the name is raced
for again. This module knows nothing of Airflow; owners are opaque strings.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import docker

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import (
    LABEL_LEASE_OWNER,
    LABEL_LEASE_PURPOSE,
    LABEL_LEASE_SINCE,
    LABEL_ROLE,
    LABEL_SERVICE,
    BlueGreenConfig,
    Role,
)
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.lock import create_marker, remove_marker
from handoff.target.lease import Acquisition, EndedCheck, LeaseHolder, LeaseOutcome

log = logging.getLogger(__name__)

# While a stale lease is being removed (by us or another breaker) its name is still taken but
# no holder can be read: look again after a pause, for at most this long (seen in the Airflow
# drill: a tight loop of ten turns gave up within 75 ms while the removal was in progress).
_RACE_DEADLINE_S = 30.0
_RACE_PAUSE_S = 0.1


class ServiceLease:
    """The handoff lease of one service."""

    def __init__(self, client: docker.DockerClient, config: BlueGreenConfig) -> None:
        self.client = client
        self.config = config
        self.name = config.lease_name

    def holder(self) -> LeaseHolder | None:
        """Return the current holder, or None when the service is free."""
        container = dockerapi.get(self.client, self.name)
        if container is None:
            return None
        labels = dockerapi.labels(container)
        since = labels.get(LABEL_LEASE_SINCE, "")
        try:
            when = datetime.fromisoformat(since)
        except ValueError:
            when = datetime.fromtimestamp(0, UTC)  # unreadable: shows as held for ages
        return LeaseHolder(
            owner=labels.get(LABEL_LEASE_OWNER, "unknown"),
            since=when,
            purpose=labels.get(LABEL_LEASE_PURPOSE, "?"),
            container_id=str(container.id),
        )

    def acquire(self, owner: str, purpose: str, ended: EndedCheck) -> Acquisition:
        """Take the lease, find it already ours, or report the live holder; break stale ones.

        Never waits: the caller decides how (a task reschedules itself rather than sleep).
        """
        broken: list[tuple[LeaseHolder, str]] = []
        deadline = time.monotonic() + _RACE_DEADLINE_S
        while time.monotonic() < deadline:
            if self._try_create(owner, purpose):
                mine = self.holder()
                if mine is not None and mine.owner == owner:
                    log.info("lease %s taken by %s for %s", self.name, owner, purpose)
                    return Acquisition(LeaseOutcome.TAKEN, mine, tuple(broken))
                continue  # broken by someone between our create and our look: race again
            holder = self.holder()
            if holder is None:
                # Released, or a removal still in progress: the name frees up shortly.
                time.sleep(_RACE_PAUSE_S)
                continue
            if any(holder.container_id == gone.container_id for gone, _ in broken):
                time.sleep(_RACE_PAUSE_S)  # our removal of it is still in progress
                continue
            if holder.owner == owner:
                # A retried task of the same run: its lease is still its own.
                log.info("lease %s already held by %s (%s)", self.name, owner, holder.describe())
                return Acquisition(LeaseOutcome.ALREADY_OURS, holder, tuple(broken))
            why = ended(holder.owner)
            if why is None:
                return Acquisition(LeaseOutcome.HELD_BY_OTHER, holder, tuple(broken))
            log.warning(
                "breaking stale lease %s for %s: held by %s; %s",
                self.name,
                owner,
                holder.describe(),
                why,
            )
            remove_marker(self.client, holder.container_id)
            broken.append((holder, why))
        raise BlueGreenError(
            f"lease {self.name}: its name stayed taken with no readable holder for "
            f"{_RACE_DEADLINE_S:g} s (a removal stuck in the Docker engine?); try again"
        )

    def release(self, owner: str, step: str) -> bool:
        """Remove the lease if ``owner`` holds it; return whether it did."""
        holder = self.holder()
        if holder is None:
            log.info("%s: lease %s is not held; nothing to release", step, self.name)
            return False
        if holder.owner != owner:
            log.info(
                "%s: lease %s is held by %s, not by %s; leaving it",
                step,
                self.name,
                holder.describe(),
                owner,
            )
            return False
        remove_marker(self.client, holder.container_id)
        log.info(
            "%s: lease %s released by %s after %.0f s",
            step,
            self.name,
            owner,
            holder.held_for().total_seconds(),
        )
        return True

    def _try_create(self, owner: str, purpose: str) -> bool:
        labels = {
            LABEL_SERVICE: self.config.service,
            LABEL_ROLE: Role.LEASE.value,
            LABEL_LEASE_OWNER: owner,
            LABEL_LEASE_SINCE: datetime.now(UTC).isoformat(timespec="milliseconds"),
            LABEL_LEASE_PURPOSE: purpose,
        }
        return create_marker(self.client, self.config, self.name, labels)
