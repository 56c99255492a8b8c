"""A short-lived cache of each handoff's live part, so polling costs the API server little.

However many browsers poll a handoff's page, its live part is computed at most once per
``ttl_s`` (a few database queries, two Prometheus range queries per colour and a file read
or two); the other requests get the cached HTML. Who may read it is still checked on every
request, before the cache is asked. One lock per key: concurrent misses compute once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TtlCache:
    """Values by key, each kept ``ttl_s`` seconds after it was computed."""

    ttl_s: float
    _values: dict[str, tuple[float, str, bool]] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    computed: int = 0  # how many times a value was computed (the page's cost, measured)

    def get(self, key: str, compute: Callable[[], tuple[str, bool]]) -> tuple[str, bool]:
        """Return the key's (html, final), computing it when missing or older than ``ttl_s``."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._values.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
                return hit[1], hit[2]
            html, final = compute()
            self.computed += 1
            self._values[key] = (time.monotonic(), html, final)
            return html, final
