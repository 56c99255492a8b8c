"""The observability stack's configuration files (include/observability/promconfig.py)."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_each_service_job_reads_the_files_of_every_service_in_the_targets_folder() -> None:
    config = yaml.safe_load(promconfig.prometheus_yml(5))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job, suffix in {"haproxy": "routers", "service": "colours", "blackbox": "probes"}.items():
        (sd,) = jobs[job]["file_sd_configs"]
        assert sd["files"] == [f"/etc/handoff-targets/*.{suffix}.json"]


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
