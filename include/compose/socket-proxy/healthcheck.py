#!/usr/bin/env python3
"""Exit 0 when the proxy answers GET /_ping through its own socket (the compose healthcheck)."""

import socket
import sys

PROXY = "/run/docker-proxy/docker.sock"

try:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(PROXY)
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        answer = sock.recv(64)
except OSError as error:
    sys.exit(f"socket proxy: {error}")
sys.exit(0 if answer.startswith(b"HTTP/1.1 200") else f"socket proxy: {answer!r}")
