"""The compose stack's observability services: configuration files current, containers hardened.

Static checks of docker-compose.yaml (the stack itself runs in `make compose-test`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SERVICES = (
    "handoff-alertmanager-secret",
    "handoff-alertmanager",
    "handoff-prometheus",
    "handoff-blackbox",
    "handoff-node-exporter",
)


def _promconfig() -> Any:
    path = ROOT / "include" / "observability" / "promconfig.py"
    spec = importlib.util.spec_from_file_location("observability_promconfig", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services: dict[str, Any] = compose["services"]
    return services


def test_committed_configuration_files_are_the_rendered_ones() -> None:
    folder = ROOT / "include" / "observability" / "compose"
    for name, text in _promconfig().compose_files().items():
        assert (folder / name).read_text() == text, (
            f"{folder / name} is stale: run `python include/observability/promconfig.py`"
        )


@pytest.mark.parametrize("name", SERVICES)
def test_observability_services_are_hardened_and_on_the_loopback(name: str) -> None:
    service = _services()[name]
    assert service["cap_drop"] == ["ALL"] and "cap_add" not in service
    assert service["security_opt"] == ["no-new-privileges:true"]
    assert service["read_only"] is True
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), port
    for volume in service.get("volumes", []):
        source = volume.split(":", 1)[0]
        assert source.startswith("./include/observability/compose/") or "/" not in source


def test_prometheus_reads_the_rules_volume_read_only_and_reloads_on_request() -> None:
    services = _services()
    prometheus = services["handoff-prometheus"]
    assert "prometheus-rules:/etc/handoff-rules:ro" in prometheus["volumes"]
    assert "--web.enable-lifecycle" in prometheus["command"]
    worker = services["airflow-worker"]
    assert "prometheus-rules:/opt/airflow/prometheus-rules" in worker["volumes"]
    assert services["handoff-alertmanager"]["extra_hosts"] == ["host.docker.internal:host-gateway"]


def test_every_tmpfs_is_one_absolute_mount_with_its_options() -> None:
    # A YAML flow list splits "/tmp:rw,noexec" at its commas into a path and bare options,
    # which Docker refuses ("mount path must be absolute"): each entry must be one string.
    for name, service in _services().items():
        for entry in service.get("tmpfs") or ():
            assert str(entry).startswith("/"), (name, entry)
