"""Build outcomes the loader shards record, so the errors file does not build every DAG again.

A contract whose DAG fails to build (the loader's last resort) is only found by building it,
and the errors file (`dags/handoffs_errors.py`) must name it. The shards build every DAG
anyway: each records, per contract, whether its DAG built or the diagnostic it failed with,
under the contract's handoff cache key (its bytes, its sidecar's, the environments' and the
package's code). The errors file reads those records and builds only the DAGs no shard has
recorded (a fresh start, a contract just edited), so it is correct without them.

Records live in the handoff cache folder, one per loader shard and handoffs folder; a lost
or damaged record only costs the errors file those builds. A shard rewrites its record as it
builds and marks it complete at the end, so the errors file can tell a shard that is
building right now (its record incomplete and recently written) and wait for it instead of
building the same DAGs beside it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from airflow import __version__ as airflow_version
from airflow.sdk import __version__ as task_sdk_version

from handoff import handoff_cache
from handoff.errors import Diagnostic
from handoff.render.shards import Shard

# A shard rewrites its record after this many builds, so the errors file, parsing at the same
# time on a cold start, skips the DAGs the shards have built by then.
WRITE_EVERY = 50
# The outcome of a DAG's build: None when it built, else why it did not.
BuildOutcome = Diagnostic | None
# A record written this recently, and not complete, is a shard building right now.
LIVE_FOR_SECONDS = 5.0
# What a build may also depend on besides the handoff and this package: Airflow itself.
_VERSIONS = f"airflow {airflow_version}, task-sdk {task_sdk_version}"


def _prefix(handoffs_dir: Path) -> str:
    """Return the cache key prefix of a handoffs folder's records."""
    folder = hashlib.sha256(str(handoffs_dir.resolve()).encode()).hexdigest()[:16]
    return f"build-outcomes-{folder}-"


@dataclass
class OutcomeLog:
    """The outcomes one shard records during one parse, written as it goes."""

    key: str
    kept: dict[str, BuildOutcome] = field(default_factory=dict)
    outcomes: dict[str, BuildOutcome] = field(default_factory=dict)
    unwritten: int = 0
    written: bool = False

    @classmethod
    def for_shard(cls, handoffs_dir: Path, shard: Shard) -> OutcomeLog:
        """Start a shard's log; its last record stays readable until this parse has built all.

        An outcome is valid as long as its key is (the key names every byte the build read),
        so the errors file may use the last parse's outcomes while this one runs.
        """
        key = _prefix(handoffs_dir) + (shard.label or "all")
        previous = _outcomes_of(handoff_cache.read(key))
        return cls(key, kept=previous)

    def record(self, contract_path: Path, outcome: BuildOutcome) -> None:
        """Note one contract's build outcome, under the key it was loaded under."""
        key = handoff_cache.key_loaded_under(contract_path)
        if key is None:
            return  # not loaded through the catalog here: the errors file builds it itself
        self.outcomes[key] = outcome
        self.unwritten += 1
        # Written at the first build too: the errors file sees at once that this shard builds.
        if self.unwritten >= WRITE_EVERY or not self.written:
            self._write({**self.kept, **self.outcomes}, complete=False)

    def finish(self) -> None:
        """Write this parse's outcomes only: the record keeps no contract gone or edited."""
        self._write(self.outcomes, complete=True)

    def _write(self, outcomes: dict[str, BuildOutcome], complete: bool) -> None:
        record = {"versions": _VERSIONS, "outcomes": dict(outcomes), "complete": complete}
        handoff_cache.write(self.key, record)
        self.unwritten, self.written = 0, True


@dataclass(frozen=True)
class Recorded:
    """What the shards of a handoffs folder have recorded, read at one moment."""

    outcomes: dict[str, BuildOutcome]
    building: tuple[Shard, ...]  # the shards building right now (see LIVE_FOR_SECONDS)

    def awaited(self, contract_path: Path) -> bool:
        """Tell whether a shard building right now owns this contract (so will record it)."""
        return any(shard.holds(contract_path) for shard in self.building)


def recorded(handoffs_dir: Path) -> Recorded:
    """Return every outcome the shards of a handoffs folder have recorded, by contract key."""
    prefix = _prefix(handoffs_dir)
    outcomes: dict[str, BuildOutcome] = {}
    building = []
    for key, written_at in handoff_cache.entries(prefix):
        value = handoff_cache.read(key)
        outcomes.update(_outcomes_of(value))
        live = time.time() - written_at < LIVE_FOR_SECONDS
        if live and isinstance(value, dict) and value.get("complete") is False:
            building.append(_shard_of(key.removeprefix(prefix)))
    return Recorded(outcomes, tuple(building))


def _shard_of(label: str) -> Shard:
    """Return the shard a record's label names ("all" for a loader of every contract)."""
    try:
        return Shard.of_loader(f"handoffs_{label}.py")
    except ValueError:
        return Shard()


def _outcomes_of(value: object) -> dict[str, BuildOutcome]:
    """Return a record's outcomes; none from a record of another Airflow or a damaged one."""
    if not isinstance(value, dict) or value.get("versions") != _VERSIONS:
        return {}
    outcomes = value.get("outcomes")
    if not isinstance(outcomes, dict):
        return {}
    return {
        k: v
        for k, v in outcomes.items()
        if isinstance(k, str) and (v is None or isinstance(v, Diagnostic))
    }
