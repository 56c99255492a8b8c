#!/usr/bin/env python3
"""A local stand-in for a Slack incoming webhook, for `make run` without a real workspace.

It accepts every JSON POST, answers 200 "ok" as Slack does, prints one line per message
(time, event, text) and appends the whole body to a JSON-lines file, so a rehearsal's
communication plan can be read without Slack. Standard library only.

    python include/demo/scripts/slack_receiver.py --port 18089 --log .airflow/slack-messages.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def summary(body: dict[str, Any]) -> str:
    """Return a one-line view of a message: its context's event label and its text."""
    text = " ".join(str(body.get("text", "")).split())
    try:
        context = body["blocks"][-1]["elements"][0]["text"]
        event = str(context.split(" · ")[0])
    except (KeyError, IndexError, TypeError, AttributeError):
        event = "message"
    return f"{event}: {text[:160]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except ValueError:
            self._answer(400, b"invalid_payload")
            return
        self.server.record(body)
        self._answer(200, b"ok")

    def _answer(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: object) -> None:
        """Print messages, not access lines."""


class Receiver(ThreadingHTTPServer):
    """The HTTP server: prints and stores every message it accepts."""

    daemon_threads = True

    def __init__(self, port: int, log: Path) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.log = log
        self.lock = threading.Lock()

    def record(self, body: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        with self.lock:
            with self.log.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"received_at": now.isoformat(), "body": body}) + "\n")
            print(f"slack {now:%H:%M:%S} {summary(body)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18089)
    parser.add_argument("--log", type=Path, default=Path("slack-messages.jsonl"))
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = Receiver(args.port, args.log)
    except OSError as e:
        print(f"slack receiver: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1
    print(f"slack receiver: listening on http://127.0.0.1:{args.port}, log {args.log}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
