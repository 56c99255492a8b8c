#!/usr/bin/env python3
"""Send one line of commands to HAProxy's admin socket and print the answer.

Usage: hactl 'set server live/green state ready; set server live/blue state maint'
The commands of one line run in order inside HAProxy, without a gap for other requests'
routing decisions to see half of a switch. Exit 2 when the socket does not answer.
"""

import socket
import sys

SOCKET = "/run/haproxy/admin.sock"


def main() -> int:
    line = " ".join(sys.argv[1:]).strip()
    if not line:
        print("usage: hactl 'command[; command...]'", file=sys.stderr)
        return 64
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(SOCKET)
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        print(f"hactl: admin socket {SOCKET} does not answer: {exc}", file=sys.stderr)
        return 2
    finally:
        sock.close()
    sys.stdout.write(b"".join(chunks).decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
