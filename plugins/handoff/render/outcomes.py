"""Build outcomes the loader shards record, so the errors file does not build every DAG again.

A contract whose DAG fails to build (the loader's last resort) is only found by building it,
and the errors file (`dags/handoffs_errors.py`) must name it. The shards build every DAG
anyway: each records, per contract, whether its DAG built or the diagnostic it failed with,
under the contract's handoff cache key (its bytes, its sidecar's, the environments' and the
package's code). The errors file reads those records and builds only the DAGs no shard has
recorded yet (a fresh start, a contract just edited), so it is correct without them.

Records live in the handoff cache folder, one per loader shard and handoffs folder; a lost
or damaged record only costs the errors file those builds.
"""

from __future__ import annotations

import hashlib
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
Outcome = Diagnostic | None
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
    kept: dict[str, Outcome] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    unwritten: int = 0

    @classmethod
    def for_shard(cls, handoffs_dir: Path, shard: Shard) -> OutcomeLog:
        """Start a shard's log; its last record stays readable until this parse has built all.

        An outcome is valid as long as its key is (the key names every byte the build read),
        so the errors file may use the last parse's outcomes while this one runs.
        """
        key = _prefix(handoffs_dir) + (shard.label or "all")
        previous = _outcomes_of(handoff_cache.read(key))
        return cls(key, kept=previous)

    def record(self, contract_path: Path, outcome: Outcome) -> None:
        """Note one contract's build outcome, under the key it was loaded under."""
        key = handoff_cache.key_loaded_under(contract_path)
        if key is None:
            return  # not loaded through the catalog here: the errors file builds it itself
        self.outcomes[key] = outcome
        self.unwritten += 1
        if self.unwritten >= WRITE_EVERY:
            self._write({**self.kept, **self.outcomes})

    def finish(self) -> None:
        """Write this parse's outcomes only: the record keeps no contract gone or edited."""
        self._write(self.outcomes)

    def _write(self, outcomes: dict[str, Outcome]) -> None:
        handoff_cache.write(self.key, {"versions": _VERSIONS, "outcomes": dict(outcomes)})
        self.unwritten = 0


def recorded(handoffs_dir: Path) -> dict[str, Outcome]:
    """Return every outcome the shards of a handoffs folder have recorded, by contract key."""
    found: dict[str, Outcome] = {}
    for value in handoff_cache.read_all(_prefix(handoffs_dir)):
        found.update(_outcomes_of(value))
    return found


def _outcomes_of(value: object) -> dict[str, Outcome]:
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
