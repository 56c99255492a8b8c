"""An alert end to end: a handoff's rule fires on real traffic, Alertmanager posts to Slack once.

The stack is the machine's own; the service, the handoff's rules and the Slack receiver are the
test's. The receiver listens on the observability network's gateway (the address Alertmanager
knows as host.docker.internal), never on every interface; the webhook URL written into
Alertmanager's volume points at it for the test and is put back afterwards.

The story: V1 live on blue; the handoff's rules are loaded for green (as a watch starts at the
switch); V2 deployed on green erroring on 30 % of its answers and switched live under the
traffic generator; the error-rate rule fires and Slack gets one message; the test alert of the
Error Tracking check goes through meanwhile; a rollback to blue ends the fault, and Slack gets
one resolved message; the rules are removed and gone from /api/v1/rules.

Timing: the rules use a 15 s rate window and ``for: 1s`` (the contract's defaults, 60 s and
60 s, would take minutes); Prometheus evaluates every 5 s (its scrape interval, unchanged);
Alertmanager's group_wait 5 s and group_interval 15 s are the product's own.
"""

from __future__ import annotations

import secrets
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.analysis.alert_rules import RuleThresholds
from handoff.analysis.alert_test import TEST_ALERT, send_test_alert
from handoff.analysis.queries import Target
from handoff.analysis.rule_loader import AlertingSettings, load_rules, remove_rules
from handoff.bluegreen import BlueGreenEngine
from tests.integration.bluegreen.conftest import docker_client, engine, make_config
from tests.integration.observability.test_stack import get_json, stack_module, traffic
from tests.support.demo import V1, V2
from tests.support.observability import alertmanager_posting_to_a_receiver, running_stack
from tests.support.slack_receiver import AlertMessage, Receiver, alertmanager_messages

__all__ = ["docker_client", "engine", "make_config"]

pytestmark = pytest.mark.integration

promconfig = stack_module.promconfig
MESSAGE_DEADLINE_S = 60.0
ERROR_RATE = "HandoffErrorRate"


@pytest.fixture(scope="module")
def stack() -> Any:
    """Return the machine's observability stack, started if it was missing."""
    return running_stack()


@pytest.fixture
def receiver(stack: Any) -> Iterator[Receiver]:
    """Return a Slack receiver Alertmanager posts to for the test's duration."""
    with alertmanager_posting_to_a_receiver(stack) as running:
        yield running


class Traffic:
    """The traffic generator run in short rounds on a thread until stopped."""

    def __init__(self, port: int, token: str) -> None:
        self.stopping = threading.Event()
        self.requests = 0
        population = traffic.Population(
            port=port,
            users=4,
            duration_s=2.0,
            token=token,
            wrong_token_share=0.0,  # no security alert meanwhile: this test is about one rule
            unknown_path_share=0.0,
            seed=29,
        )

        def rounds() -> None:
            while not self.stopping.is_set():
                self.requests += traffic.run(population).requests

        self.thread = threading.Thread(target=rounds, name="traffic", daemon=True)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def wait_for(what: str, found: Callable[[], bool], deadline_s: float = MESSAGE_DEADLINE_S) -> float:
    """Wait until ``found()``; return the seconds it took, or fail naming what was awaited."""
    started = time.monotonic()
    while not found():
        if time.monotonic() - started > deadline_s:
            pytest.fail(f"{what} not seen within {deadline_s:g}s")
        time.sleep(0.5)
    return time.monotonic() - started


def messages_of(receiver: Receiver, handoff_id: str, alertname: str) -> list[AlertMessage]:
    return [
        m
        for m in alertmanager_messages(receiver.inbox)
        if m.handoff == handoff_id and m.alertname == alertname
    ]


def test_an_alert_goes_once_to_slack_then_resolved(
    stack: Any, engine: BlueGreenEngine, receiver: Receiver
) -> None:
    service = engine.config.service
    handoff_id = f"it-{uuid.uuid4().hex[:8]}"
    settings = AlertingSettings.from_env()
    token = secrets.token_hex(16)
    engine.deploy(V1, environment={"DEMO_API_TOKEN": token})
    engine.switch(V1)
    stack.sync({service})

    # The burn-rate rules need 14.4 x and 6 x the allowed 10 %: a 30 % fault fires only the
    # error-rate rule, which is what this test counts messages of.
    thresholds = RuleThresholds(error_rate=0.1, window_s=15, for_s=1)
    loaded = load_rules(handoff_id, Target(service, "green"), thresholds, settings)
    try:
        path = Path(loaded.file)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
        assert loaded.group == f"handoff-{handoff_id}" and ERROR_RATE in {
            r.name for r in loaded.rules
        }
        assert all(r.expr for r in loaded.rules) and loaded.load_ms < 30_000
        # Prometheus' own check of the file it reads (promtool, in its container).
        prometheus = stack.client.containers.get(promconfig.PROMETHEUS)
        code, output = prometheus.exec_run(
            ["promtool", "check", "rules", f"{promconfig.RULES_DIR}/{path.name}"]
        )
        assert code == 0 and b"SUCCESS" in output, output.decode()
        # Loading again is idempotent: nothing rewritten, the same group confirmed.
        again = load_rules(handoff_id, Target(service, "green"), thresholds, settings)
        assert not again.rewritten and again.rules == loaded.rules

        faulty = {"DEMO_API_TOKEN": token, "DEMO_MODE": "erroring", "DEMO_ERROR_RATE": "30"}
        with Traffic(engine.config.live_port, token) as running:
            engine.deploy(V2, environment=faulty)
            engine.switch(V2)
            fault_started = time.monotonic()
            firing = wait_for(
                "the error-rate alert's message at the Slack receiver",
                lambda: bool(messages_of(receiver, handoff_id, ERROR_RATE)),
            )
            print(f"\nfault -> Slack message: {firing:.1f}s")

            evidence = send_test_alert(handoff_id, settings)
            assert evidence.delivered, evidence.problem
            assert evidence.after.delivered() > evidence.before.delivered()
            assert evidence.labels["handoff"] == handoff_id and evidence.resolved_at
            assert [m.status for m in messages_of(receiver, handoff_id, TEST_ALERT)] == ["FIRING"]

            engine.rollback()  # blue live again: green gets no traffic, its error rate ends
            fault_ended = time.monotonic()
            resolved = wait_for(
                "the error-rate alert's resolved message",
                lambda: len(messages_of(receiver, handoff_id, ERROR_RATE)) >= 2,
            )
            print(f"fault end -> resolved message: {resolved:.1f}s")
            wait_for(
                "the test alert's resolved message",
                lambda: len(messages_of(receiver, handoff_id, TEST_ALERT)) >= 2,
                deadline_s=30.0,
            )
            assert running.requests > 100
        # One message while it fired (~{firing}s of evaluations every 5 s), then one resolved.
        alert_messages = messages_of(receiver, handoff_id, ERROR_RATE)
        assert [m.status for m in alert_messages] == ["FIRING", "RESOLVED"], alert_messages
        assert service in alert_messages[0].title and "5xx share above 10.00%" in (
            alert_messages[0].text
        )
        assert [m.status for m in messages_of(receiver, handoff_id, TEST_ALERT)] == [
            "FIRING",
            "RESOLVED",
        ]
        print(f"fault lasted {fault_ended - fault_started:.1f}s")
    finally:
        removed = remove_rules(handoff_id, settings)
        stack.sync(set())
    assert removed.file_removed and not Path(removed.file).exists()
    prometheus_url = stack.settings.url(stack.settings.prometheus_port)
    groups = get_json(f"{prometheus_url}/api/v1/rules")["data"]["groups"]
    assert loaded.group not in {g["name"] for g in groups}
    assert not remove_rules(handoff_id, settings).file_removed  # idempotent
