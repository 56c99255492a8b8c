"""Loader shards: the contracts split over several loader files, parsed in parallel.

Airflow's DAG processor parses files in parallel (`[dag_processor] parsing_processes`), never
one file on several cores, and a DAG of this timeline costs ~8 ms to build in Airflow 3.3.
So a large fleet of handoffs is split over loader files named `handoffs_<i>_of_<n>.py`; each
builds the DAGs of the contracts whose file name hashes to it. A loader file with any other
name builds them all. The split depends only on the file name, so every parse of a loader
(the DAG processor's, and a worker's looking for one DAG) agrees on who owns what.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

_LOADER_NAME = re.compile(r"^handoffs_(\d+)_of_(\d+)\.py$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `total`."""

    index: int = 1
    total: int = 1

    @classmethod
    def of_loader(cls, loader_file: str | Path) -> Shard:
        """Return the shard a loader file's name declares (all contracts for other names)."""
        match = _LOADER_NAME.match(Path(loader_file).name)
        if not match:
            return cls()
        index, total = int(match[1]), int(match[2])
        if not 1 <= index <= total:
            raise ValueError(f"{loader_file}: shard {index} of {total} does not exist")
        return cls(index, total)

    def holds(self, path: Path) -> bool:
        """Tell whether this shard owns a file (a contract, or a sidecar without one)."""
        return zlib.crc32(path.name.encode()) % self.total == self.index - 1

    @property
    def label(self) -> str:
        return f"{self.index}_of_{self.total}" if self.total > 1 else ""
