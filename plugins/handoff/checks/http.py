"""One HTTP exchange through a router listener, with everything a check looks at."""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
from dataclasses import dataclass, field

from handoff.bluegreen.probe import connection


@dataclass(frozen=True)
class Exchange:
    """The answer to one request; ``status`` is 0 when no HTTP answer came back."""

    status: int
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str | None = None
    # Of the body's bytes as sent (the static-assets check compares them, `text` is decoded).
    sha256: str = ""
    size: int = 0

    def header(self, name: str) -> str | None:
        """Return a response header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def exchange(
    host: str,
    port: int,
    path: str,
    method: str = "GET",
    json_body: object | None = None,
    timeout: float = 10.0,
    tls: tuple[str, ssl.SSLContext] | None = None,
) -> Exchange:
    """Send one request on a fresh connection; never raise for network errors.

    ``tls`` = (domain, context) speaks verified TLS for the domain (a live listener that
    terminates TLS); the context says which CA is trusted, never none.
    """
    body = None if json_body is None else json.dumps(json_body).encode()
    headers = {"Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    conn = connection(host, port, timeout, tls)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return Exchange(
            resp.status,
            time.monotonic() - started,
            dict(resp.getheaders()),
            raw.decode("utf-8", "replace"),
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
        )
    except (OSError, http.client.HTTPException) as exc:
        return Exchange(0, time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
