"""Demo scanner: look for what a release must never expose, through its preview URL.

Findings: a sensitive path that answers 200 (/.env, /.git/config, /debug, /server-status),
a Server or X-Powered-By header naming a version. Exit 1 with findings, 0 without, 2 when the
target does not answer. The last line printed is the one-line summary the gate records.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.error
import urllib.request

SENSITIVE = ("/.env", "/.git/config", "/debug", "/server-status")
VERSION = re.compile(r"\d+\.\d+")


def status_and_headers(url: str) -> tuple[int, dict[str, str]]:
    """Return the status and the headers, names lowercased (proxies lowercase them)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}


def main() -> int:
    base = os.environ["HANDOFF_SCAN_URL"].rstrip("/")
    image = os.environ.get("HANDOFF_SCAN_IMAGE", "?")
    findings = []
    try:
        status, headers = status_and_headers(base + "/")
    except OSError as e:
        print(f"scan of {image}: target {base} does not answer: {e}")
        return 2
    for name in ("Server", "X-Powered-By"):
        value = headers.get(name.lower(), "")
        if VERSION.search(value):
            findings.append(f"{name} header names a version: {value!r}")
    for path in SENSITIVE:
        code, _ = status_and_headers(base + path)
        if code == 200:
            findings.append(f"{path} answers 200")
    for finding in findings:
        print(f"finding: {finding}")
    print(f"scan of {image}: {len(findings)} findings on {base} (root answered {status})")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
