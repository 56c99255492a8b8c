"""The machine's observability stack for tests: started when missing, Alertmanager pointed
at a test's Slack receiver for a while, and a service's targets forgotten afterwards.

The stack is the machine's own (`make observability`), never removed by a test. The receiver
listens on the observability network's gateway (the address Alertmanager knows as
host.docker.internal), never on every interface; the webhook URL written into Alertmanager's
volume points at it for the block and is put back afterwards.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from handoff.analysis import scrape_targets
from tests.support.demo import ROOT
from tests.support.scripts import load
from tests.support.slack_receiver import WEBHOOK_PATH, Receiver, slack_receiver

stack_module = load(ROOT / "include" / "observability" / "stack.py", "observability_stack")
promconfig = stack_module.promconfig


def running_stack() -> Any:
    """Return the machine's observability stack, started if it was missing."""
    stack = stack_module.Stack(stack_module.Settings.from_env())
    stack.up()
    return stack


@contextmanager
def alertmanager_posting_to_a_receiver(stack: Any) -> Iterator[Receiver]:
    """Serve a Slack receiver Alertmanager posts to until the block ends."""
    alertmanager = stack.client.containers.get(promconfig.ALERTMANAGER)
    name = Path(promconfig.WEBHOOK_FILE).name
    previous = stack_module.read_files(alertmanager, promconfig.ALERTMANAGER_DIR, [name])
    with slack_receiver(host=stack.gateway()) as running:
        port = urllib.parse.urlsplit(running.url).port
        url = f"http://{stack_module.HOST_ALIAS}:{port}/{WEBHOOK_PATH}"
        # Alertmanager reads api_url_file at each notification: no reload needed.
        stack.write_webhook_url(alertmanager, url)
        try:
            yield running
        finally:
            stack.write_webhook_url(alertmanager, previous.get(name, stack_module.NO_WEBHOOK))


def forget_service(service: str) -> None:
    """Remove a test service's targets files, so Prometheus stops scraping its router."""
    scrape_targets.remove(scrape_targets.default_targets_dir(), [service])
