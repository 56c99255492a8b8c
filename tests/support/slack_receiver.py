"""A local stand-in for Slack's incoming webhook: records every JSON body it accepts.

The real provider posts to it through an Airflow connection (`conn_json`). A test can make it
answer 500 to the next N requests (`fail_next`), then it recovers; a receiver that is down is
simply a URL nobody listens on (`down_url`). Alertmanager (in a container) reaches a receiver
bound to the observability network's gateway (`slack_receiver(host=gateway)`), never one on
0.0.0.0; `alertmanager_messages` reads what its Slack integration posted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.demo import free_port

WEBHOOK_PATH = "services/T000/B000/test-token"


@dataclass
class Inbox:
    """What the receiver got, and how it behaves now."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        """Return the event of every accepted message, in arrival order (from its context)."""
        return [event_of(body) for body in self.bodies]


def event_of(body: dict[str, Any]) -> str:
    """Return the event label a message's context block names (e.g. 'rollback started')."""
    context = body["blocks"][-1]["elements"][0]["text"]
    return str(context.split(" · ")[0].split(" ", 1)[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        inbox = self.server.inbox
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with inbox.lock:
            inbox.requests += 1
            failing = inbox.fail_next > 0
            if failing:
                inbox.fail_next -= 1
            else:
                inbox.bodies.append(json.loads(body))
        answer = b"internal_error" if failing else b"ok"
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    inbox: Inbox


@dataclass(frozen=True)
class Receiver:
    """A running receiver: its URL and its inbox."""

    url: str
    inbox: Inbox


@contextmanager
def slack_receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    """Serve on a free port of ``host`` (the loopback unless told) until the block ends."""
    if host in ("0.0.0.0", "::", ""):
        raise ValueError("the Slack receiver listens on one address, never on every interface")
    server = _Server((host, 0), _Handler)
    server.inbox = Inbox()
    thread = threading.Thread(target=server.serve_forever, name="slack-receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://{host}:{server.server_address[1]}", server.inbox)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class AlertMessage:
    """One message Alertmanager's Slack integration posted: FIRING or RESOLVED, and about what."""

    status: str
    alertname: str
    handoff: str
    title: str
    text: str


def alertmanager_messages(inbox: Inbox) -> list[AlertMessage]:
    """Return the Alertmanager messages of an inbox (title ``[STATUS] alertname handoff ID``)."""
    found = []
    with inbox.lock:
        bodies = list(inbox.bodies)
    for body in bodies:
        for attachment in body.get("attachments") or []:
            title = str(attachment.get("title", ""))
            words = title.split()
            if len(words) >= 2 and words[0].startswith("[") and words[0].endswith("]"):
                handoff = words[words.index("handoff") + 1] if "handoff" in words[:-1] else ""
                found.append(
                    AlertMessage(
                        words[0].strip("[]"),
                        words[1],
                        handoff,
                        title,
                        str(attachment.get("text", "")),
                    )
                )
    return found


def down_url() -> str:
    """Return a loopback URL nobody listens on."""
    return f"http://127.0.0.1:{free_port()}"


def conn_json(url: str) -> str:
    """Return an AIRFLOW_CONN_<ID> value (JSON form) for a webhook at ``url``."""
    return json.dumps({"conn_type": "slackwebhook", "host": url, "password": WEBHOOK_PATH})
