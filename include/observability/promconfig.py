"""The observability stack's configuration files, rendered from typed settings (pure).

Prometheus scrapes itself, Alertmanager, the blackbox exporter, node-exporter, and, through
the targets files of handoff.analysis.scrape_targets (file_sd, one set per service), every
registered router: HAProxy's exporter on the router's metrics listener, each colour's
/metrics through that listener, and blackbox probes of the live and preview health paths.
Alertmanager sends every alert to one Slack receiver whose webhook URL is read from a file at
notification time, never from this configuration.

Every value written into a file is either a checked name (``NAME``) or JSON/YAML made by a
serializer (json.dumps, whose output is also valid YAML), never text pasted into a template.
"""

from __future__ import annotations

import json
import re

#: Container and service names: what Docker allows, without anything YAML or PromQL reads.
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
#: Container names of the stack, as its network's DNS knows them.
PROMETHEUS = "handoff-prometheus"
ALERTMANAGER = "handoff-alertmanager"
BLACKBOX = "handoff-blackbox"
NODE_EXPORTER = "handoff-node-exporter"

PROMETHEUS_DIR = "/etc/handoff-prometheus"
#: Where Prometheus reads the handoffs' rule files: a host folder (or, in docker-compose, a
#: volume shared with Airflow) mounted read-only; handoff.analysis.rule_loader writes it.
RULES_DIR = "/etc/handoff-rules"
#: Where Prometheus reads the services' targets files, one set per service: a host folder
#: (in docker-compose, a volume shared with Airflow) mounted read-only, written by
#: handoff.analysis.scrape_targets at each deploy and by `stack.py sync`.
TARGETS_DIR = "/etc/handoff-targets"
ALERTMANAGER_DIR = "/etc/handoff-alertmanager"
#: Where Alertmanager reads the Slack webhook URL (a file only its user can read).
WEBHOOK_FILE = f"{ALERTMANAGER_DIR}/slack_webhook_url"


class ConfigError(ValueError):
    """A value that cannot be written into the stack's configuration."""


def checked(name: str, what: str) -> str:
    """Return a name safe to write into a configuration, or raise ConfigError."""
    if not NAME.match(name):
        raise ConfigError(
            f"{what} {name!r} cannot be written into the observability configuration: "
            "expected lowercase letters, digits, '.', '_' or '-' (at most 63 characters)"
        )
    return name


def _yaml(value: object) -> str:
    # JSON is YAML: a serializer's output, so no value can break out of its place.
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


def prometheus_yml(scrape_interval_s: int) -> str:
    """Return prometheus.yml: the stack's own jobs and the file_sd jobs of the services."""
    interval = f"{int(scrape_interval_s)}s"

    def static(job: str, address: str) -> dict[str, object]:
        return {"job_name": job, "static_configs": [{"targets": [address]}]}

    def from_files(job: str, suffix: str) -> dict[str, object]:
        # Prometheus watches the folder: a service's file is scraped as soon as it is written.
        files = [f"{TARGETS_DIR}/*.{suffix}.json"]
        return {"job_name": job, "file_sd_configs": [{"files": files, "refresh_interval": "30s"}]}

    blackbox = from_files("blackbox", "probes") | {
        "metrics_path": "/probe",
        "params": {"module": ["http_2xx"]},
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": f"{BLACKBOX}:9115"},
        ],
    }
    config = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": f"{max(1, min(int(scrape_interval_s), 10))}s",
            "evaluation_interval": interval,
        },
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"{ALERTMANAGER}:9093"]}]}]
        },
        # Alert rules per handoff, one file each, loaded on POST /-/reload (rule_loader). The
        # config volume's rules/ folder is the older place, written with put_archive.
        "rule_files": [f"{RULES_DIR}/*.yml", f"{PROMETHEUS_DIR}/rules/*.yml"],
        "scrape_configs": [
            static("prometheus", "localhost:9090"),
            static("alertmanager", f"{ALERTMANAGER}:9093"),
            static("blackbox-exporter", f"{BLACKBOX}:9115"),
            static("node", f"{NODE_EXPORTER}:9100"),
            from_files("haproxy", "routers"),
            from_files("service", "colours"),
            blackbox,
        ],
    }
    return _yaml(config)


#: How Alertmanager batches notifications (see alertmanager_yml).
GROUP_BY = ("alertname", "handoff")
GROUP_WAIT = "5s"
GROUP_INTERVAL = "15s"
REPEAT_INTERVAL = "12h"


def alertmanager_yml() -> str:
    """Return alertmanager.yml: every alert to Slack, one message per alert, then resolved.

    One group per alert name and handoff: the first message goes ``group_wait`` after the
    alert fires; the group is looked at again every ``group_interval``, and a message goes
    only when its alerts changed (one joined, or all resolved: ``send_resolved``), so an
    alert that stays firing is not posted at every evaluation; it is repeated only after
    ``repeat_interval``. The Slack URL is read from ``api_url_file`` at each notification.
    """
    slack: dict[str, object] = {
        "api_url_file": WEBHOOK_FILE,
        "send_resolved": True,
        "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
        "{{ with .CommonLabels.handoff }} handoff {{ . }}{{ end }}"
        "{{ with .CommonLabels.service }} ({{ . }}){{ end }}",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
    }
    config = {
        "route": {
            "receiver": "slack",
            "group_by": list(GROUP_BY),
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT_INTERVAL,
        },
        "receivers": [{"name": "slack", "slack_configs": [slack]}],
    }
    return _yaml(config)


#: The docker-compose stack's configuration files (docker-compose.yaml mounts them read-only),
#: rendered from this module: `python include/observability/promconfig.py` rewrites them and
#: tests/unit/analysis/test_compose_observability.py fails when they are stale.
COMPOSE_SCRAPE_INTERVAL_S = 5


def compose_files() -> dict[str, str]:
    """Return the compose stack's configuration files (name -> text)."""
    return {
        "prometheus.yml": prometheus_yml(COMPOSE_SCRAPE_INTERVAL_S),
        "alertmanager.yml": alertmanager_yml(),
    }


if __name__ == "__main__":
    from pathlib import Path

    folder = Path(__file__).resolve().parent / "compose"
    folder.mkdir(exist_ok=True)
    for name, text in compose_files().items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
        print(f"promconfig: wrote {folder / name}")
