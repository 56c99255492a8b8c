"""The handoff id of every contract in a folder, cheaply, for checks that span all of them.

A loader shard builds the DAGs of its own contracts only, yet duplicate handoff ids and DAG
ids must be caught across every contract. Ids come from an index in the handoff cache keyed
by each contract's bytes (and the parser's version), so a shard hashes the others' files
instead of parsing them; a miss parses that one contract and is added to the index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from handoff import handoff_cache
from handoff.contract import parse_contract
from handoff.contract.parser import ContractResult

log = logging.getLogger(__name__)

INDEX_FILE = "contract-ids.json"
# While parsing other shards' contracts, look this often whether their shard indexed them.
REFRESH_EVERY = 20


@dataclass(frozen=True)
class ContractId:
    """Where a contract states its handoff id."""

    path: Path
    handoff_id: str
    line: int | None


def contract_ids(
    contracts: list[Path],
    parsed: dict[Path, ContractResult] | None = None,
    own: Callable[[Path], bool] | None = None,
) -> dict[Path, ContractId]:
    """Return the id of every contract that has one (unparseable contracts have none).

    Contracts missing from the index are parsed; with ``parsed`` given, their results are put
    there so a caller that loads some of them next does not parse them twice. With ``own``
    (a loader shard's contracts), those are indexed first and written to the index before the
    others are parsed: the other shards, parsing theirs at the same time, have usually
    written them by then, so on a cold cache each contract is parsed about once in all.
    """
    index = _read_index()
    found: dict[Path, ContractId] = {}
    added: dict[str, list[object] | None] = {}
    current: set[str] = set()
    mine = [p for p in contracts if own is None or own(p)]
    others = [p for p in contracts if own is not None and not own(p)]
    for batch in (mine, others):
        if batch is others and added:
            _write_index(added, current, prune=False)  # `current` holds only ours yet
            index = {**_read_index(), **added}
            added = {}
        seen = _index_stamp()
        for number, path in enumerate(batch):
            if batch is others and number % REFRESH_EVERY == 0 and _index_stamp() != seen:
                seen = _index_stamp()  # another shard wrote its contracts' ids meanwhile
                index = {**index, **_read_index()}
            try:
                key = hashlib.sha256(handoff_cache.code_version().encode() + path.read_bytes())
            except OSError:
                continue  # vanished or unreadable: its own load reports it
            digest = key.hexdigest()
            current.add(digest)
            entry = index.get(digest, added.get(digest, "miss"))
            if entry == "miss":
                result = parse_contract(path)
                if parsed is not None:
                    parsed[path] = result
                contract = result.contract
                entry = [contract.handoff_id, contract.source.id_line] if contract else None
                added[digest] = entry
            if isinstance(entry, list):
                found[path] = ContractId(path, str(entry[0]), entry[1] if entry[1] else None)
    if added:
        _write_index(added, current)
    return found


def _index_stamp() -> tuple[int, int] | None:
    """Return the index file's modification time and size (None when there is none)."""
    folder = handoff_cache.cache_dir()
    try:
        stat = (folder / INDEX_FILE).stat() if folder else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat else None


def _read_index() -> dict[str, object]:
    folder = handoff_cache.cache_dir()
    if folder is None:
        return {}
    try:
        data = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_index(
    added: dict[str, list[object] | None], current: set[str], prune: bool = True
) -> None:
    """Merge the new entries into the index on disk; a lost race only costs a re-parse."""
    folder = handoff_cache.cache_dir()
    if folder is None:
        return
    merged = {**_read_index(), **added}
    # Bounded: drop what no current contract needs.
    if prune and len(merged) > 10 * len(current) + 1000:
        merged = {k: v for k, v in merged.items() if k in current}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(merged, out)
        Path(tmp).replace(folder / INDEX_FILE)
    except OSError as e:
        log.warning("contract id index not writable at %s (%s)", folder, e)
