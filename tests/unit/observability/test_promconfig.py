"""The observability stack's configuration files (include/observability/promconfig.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "include" / "observability"))
import promconfig


def test_prometheus_scrapes_the_stack_and_the_services_from_files() -> None:
    config = yaml.safe_load(promconfig.prometheus_yml(5))
    assert config["global"]["scrape_interval"] == "5s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {
        "prometheus",
        "alertmanager",
        "blackbox-exporter",
        "node",
        "haproxy",
        "service",
        "blackbox",
    }
    assert jobs["node"]["static_configs"] == [{"targets": ["handoff-node-exporter:9100"]}]
    assert jobs["blackbox"]["metrics_path"] == "/probe"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "handoff-alertmanager:9093"
    ]


def test_targets_reach_colours_and_probes_through_each_router() -> None:
    files = promconfig.targets([promconfig.ObservedService("shop", "shop-router")])
    routers = json.loads(files["routers.json"])
    assert routers == [{"targets": ["shop-router:8404"], "labels": {"service": "shop"}}]
    colours = json.loads(files["colours.json"])
    assert [c["labels"]["__metrics_path__"] for c in colours] == [
        "/colours/blue/metrics",
        "/colours/green/metrics",
    ]
    probes = json.loads(files["probes.json"])
    assert [p["targets"][0] for p in probes] == [
        "http://shop-router:8080/health",
        "http://shop-router:8081/health",
    ]


@pytest.mark.parametrize("name", ["Shop", "shop router", 'shop"]', "a" * 64, ""])
def test_names_that_could_break_a_file_are_refused(name: str) -> None:
    with pytest.raises(promconfig.ConfigError, match="cannot be written"):
        promconfig.ObservedService(name, "shop-router")


def test_alertmanager_sends_one_message_per_alert_and_reads_the_webhook_from_a_file() -> None:
    config = yaml.safe_load(promconfig.alertmanager_yml())
    # One group per alert and handoff; a firing alert is re-posted only after hours, and a
    # group is looked at again every group_interval, so never a message per evaluation.
    assert config["route"]["group_by"] == ["alertname", "handoff"]
    assert config["route"]["repeat_interval"] == "12h"
    assert config["route"]["group_interval"] == "15s" and config["route"]["group_wait"] == "5s"
    (slack,) = config["receivers"][0]["slack_configs"]
    assert slack["api_url_file"] == promconfig.WEBHOOK_FILE
    assert "api_url" not in slack and slack["send_resolved"] is True
