"""What stack.py gives alerting: the webhook URL from an Airflow connection, the rules mount."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _stack() -> Any:
    folder = ROOT / "include" / "observability"
    spec = importlib.util.spec_from_file_location("observability_stack", folder / "stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        (
            {"host": "http://host.docker.internal:1234", "password": "services/T/B/x"},
            "http://host.docker.internal:1234/services/T/B/x",
        ),
        (
            {"password": "https://hooks.slack.com/services/T/B/y"},
            "https://hooks.slack.com/services/T/B/y",
        ),
    ],
)
def test_webhook_url_of_a_connection(
    monkeypatch: pytest.MonkeyPatch, conn: dict[str, str], url: str
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_IT_ALERT_SLACK", json.dumps({"conn_type": "slackwebhook"} | conn)
    )
    assert _stack().webhook_url_of_connection("it_alert_slack") == url


def test_a_missing_or_bad_connection_names_it_never_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = _stack()
    with pytest.raises(SystemExit, match="connection 'it_alert_missing'"):
        stack.webhook_url_of_connection("it_alert_missing")
    monkeypatch.setenv(
        "AIRFLOW_CONN_IT_ALERT_BAD",
        json.dumps({"conn_type": "slackwebhook", "password": "se cret"}),
    )
    with pytest.raises(SystemExit, match="does not hold one http") as raised:
        stack.webhook_url_of_connection("it_alert_bad")
    assert "se cret" not in str(raised.value)


def test_the_stack_mounts_rules_and_targets_read_only_and_names_the_host_for_alertmanager(
    tmp_path: Path,
) -> None:
    stack = _stack()
    settings = stack.Settings(rules_dir=tmp_path / "rules", targets_dir=tmp_path / "targets")
    found = {c.name: c for c in stack.components(settings, "172.30.0.1")}
    prometheus, alertmanager = found["handoff-prometheus"], found["handoff-alertmanager"]
    assert "--web.enable-lifecycle" in prometheus.command
    assert prometheus.binds == {
        str(tmp_path / "rules"): "/etc/handoff-rules",
        str(tmp_path / "targets"): "/etc/handoff-targets",
    }
    assert alertmanager.extra_hosts == {"host.docker.internal": "172.30.0.1"}
    # The rules folder is part of the spec: another folder replaces the container.
    other = {c.name: c for c in stack.components(stack.Settings(rules_dir=tmp_path / "x"))}
    assert prometheus.spec("i", "b") != other["handoff-prometheus"].spec("i", "b")
