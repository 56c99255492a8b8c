"""A disk cache of loaded handoffs, keyed by every byte they were loaded from.

Airflow's DAG processor re-imports the loader in a fresh process every parse interval, and
every task re-loads its handoff when it starts, so an in-memory cache never lives long enough.
Parsing a contract and validating its sidecar and environment costs ~4 ms; reading the
pickled result back ~0.3 ms. The key covers the contract's path and bytes, the sidecar's
bytes, every environment file's name and bytes, and this package's own source, so an edit to
any of them (or an upgrade) is a miss, never a stale hit. Loading does not depend on the clock.

The cache folder must be as trusted as the DAGs folder (it holds pickles this code wrote):
`$HANDOFF_CACHE_DIR`, else `$AIRFLOW_HOME/handoff-cache`, else `~/.cache/handoff`; set
`HANDOFF_CACHE_DIR=off` to disable it. Deleting it at any time is safe.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "HANDOFF_CACHE_DIR"
_PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Return the cache folder, or None when caching is switched off."""
    explicit = os.environ.get(CACHE_DIR_ENV, "")
    if explicit.lower() == "off":
        return None
    if explicit:
        return Path(explicit)
    airflow_home = os.environ.get("AIRFLOW_HOME")
    return Path(airflow_home) / "handoff-cache" if airflow_home else Path.home() / ".cache/handoff"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Digest of this package's source: a new version of the loader never reads old pickles."""
    # The pickles hold pydantic models and dataclasses: their library and Python versions count.
    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}".encode())
    for source in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(source.relative_to(_PACKAGE)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def folder_digest(folder: Path, pattern: str = "*.yaml") -> str:
    """Digest of the names and bytes of the files in a folder (the environments)."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    if folder.is_dir():
        for path in sorted(folder.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + _bytes_or_missing(path))
    return digest.hexdigest()


def _bytes_or_missing(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0missing"


# The key each contract was last loaded under in this process. The loader records a DAG's build
# outcome under the key of the bytes the handoff was loaded from (render.outcomes); hashing the
# files again afterwards could name bytes edited in between.
_loaded_under: dict[Path, str] = {}


def handoff_key(contract_path: Path, sidecar_path: Path, environments_digest: str) -> str:
    """The cache key of one handoff: everything its loading reads, and the code that reads it."""
    digest = hashlib.sha256(code_version().encode())
    for part in (str(contract_path.resolve()).encode(), _bytes_or_missing(contract_path)):
        digest.update(hashlib.sha256(part).digest())
    digest.update(hashlib.sha256(_bytes_or_missing(sidecar_path)).digest())
    digest.update(environments_digest.encode())
    key = digest.hexdigest()
    _loaded_under[contract_path] = key
    return key


def key_loaded_under(contract_path: Path) -> str | None:
    """Return the key this process last loaded a contract under (None: not loaded here)."""
    return _loaded_under.get(contract_path)


def read(key: str) -> Any | None:
    """Return the cached value for `key`, or None on a miss or an unreadable entry."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return pickle.loads((folder / f"{key}.pickle").read_bytes())
    except FileNotFoundError:
        return None
    except Exception as e:  # a damaged entry is a miss; the next write replaces it
        log.warning("handoff cache entry %s unreadable (%s); reloading", key[:12], e)
        return None


def entries(prefix: str) -> list[tuple[str, float]]:
    """Return the key and modification time (epoch seconds) of every entry named `prefix*`."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"{prefix}*.pickle")):
        try:
            found.append((path.name.removesuffix(".pickle"), path.stat().st_mtime))
        except OSError:
            continue  # replaced or removed meanwhile
    return found


# Set while `writes_in_background()` is active: file creation is slow on some disks (about
# 1 ms per entry here), and a thread can do it while the loader goes on building DAGs.
_writer: ThreadPoolExecutor | None = None


@contextmanager
def writes_in_background() -> Iterator[None]:
    """Store entries on one background thread until the block ends, then wait for them."""
    global _writer
    if _writer is not None:  # nested: the outer block waits
        yield
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="handoff-cache") as pool:
        _writer = pool
        try:
            yield
        finally:
            _writer = None


def write(key: str, value: Any) -> None:
    """Store `value` under `key` atomically; a cache that cannot be written is only slower."""
    folder = cache_dir()
    if folder is None:
        return
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    if _writer is not None:
        _writer.submit(_store, folder, key, data)
    else:
        _store(folder, key, data)


def _store(folder: Path, key: str, data: bytes) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(tmp).replace(folder / f"{key}.pickle")
    except OSError as e:
        _warn_once(f"handoff cache not writable at {folder} ({e}); loading without it")


@functools.lru_cache(maxsize=8)
def _warn_once(message: str) -> None:
    """Log a cache problem once per process, not once per contract."""
    log.warning(message)
