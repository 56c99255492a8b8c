"""The page's catalog, parsed again only when a file under its folders changed.

Every request of the page needs every contract's lint status; parsing them all costs a few
milliseconds per contract, so the catalog is kept while no contract, sidecar or environment
file changed (by path, size and modification time). A bad file never fails the page: the
catalog gives it a row with its error (see docs/security.md, "Bad input").
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from handoff.catalog import Catalog, load_catalog

Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(folders: Iterable[Path]) -> Fingerprint:
    """Return the path, size and mtime of every file the catalog of these folders reads."""
    entries = []
    for folder in folders:
        for directory in (folder, folder.parent / "environments"):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                try:
                    if path.is_file():
                        stat = path.stat()
                        entries.append((str(path), stat.st_size, stat.st_mtime_ns))
                except OSError:
                    continue  # removed while listed: the catalog's own read reports what is left
    return tuple(entries)


@functools.lru_cache(maxsize=4)
def _load(folders: tuple[Path, ...], fingerprint: Fingerprint) -> Catalog:
    del fingerprint  # part of the cache key only
    return load_catalog(folders)


def cached_catalog(folders: Iterable[Path]) -> Catalog:
    """Return the catalog of the folders, parsed again only after one of their files changed."""
    ordered = tuple(sorted(set(folders)))
    return _load(ordered, _fingerprint(ordered))
