"""The Docker + HAProxy target's gate operations on the real engine, as the gates call them.

The scanner beside the preview (streamed, removed), the posture and the tag's image
id read for the security gate, and the one-off command beside a colour.
"""

from __future__ import annotations

from handoff.bluegreen.scanner import ROLE
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.target import Colour, DeploymentTarget
from tests.integration.gates.conftest import SCANNER, Deploy, Service
from tests.support.demo import V3


def _target(service: Service) -> DeploymentTarget:
    return DockerHaproxyTarget(service.engine)


def _scanners_left(service: Service) -> list[str]:
    filters = {"label": [f"handoff.service={service.config.service}", f"handoff.role={ROLE}"]}
    return [c.name for c in service.client.containers.list(all=True, filters=filters)]


def test_the_scanner_runs_beside_the_preview_streaming_its_lines(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3)
    lines: list[str] = []
    clean = _target(service).scan_preview(SCANNER, {"HANDOFF_SCAN_IMAGE": V3}, 60, lines.append)
    assert clean.exit_code == 0, clean.last_line
    assert lines and lines[-1] == clean.last_line
    service.engine.abort()
    deploy(V3, DEMO_FAULTS="leak_version")
    leaky = _target(service).scan_preview(SCANNER, {"HANDOFF_SCAN_IMAGE": V3}, 60, lines.append)
    assert leaky.exit_code != 0 and "1 findings" in leaky.last_line
    assert _scanners_left(service) == []


def test_a_missing_scanner_image_is_named_not_pulled(service: Service) -> None:
    missing = _target(service).scan_preview("handoff-scanner:absent", {}, 60, print)
    assert missing.exit_code == -1
    assert "'handoff-scanner:absent' is not present on the Docker engine" in missing.last_line


def test_posture_and_pinning_come_from_the_engines_inspection(
    service: Service, deploy: Deploy
) -> None:
    deploy(V3)
    target = _target(service)
    new, old = target.posture(Colour.GREEN), target.posture(Colour.BLUE)
    assert new is not None and old is not None
    assert new.image_id == target.image_id(V3) and new.image_id.startswith("sha256:")
    assert "8000/tcp" in new.exposed_ports and not new.privileged
    assert target.image_id("handoff-demo:never-built") is None


def test_the_integrity_command_runs_beside_a_colour(service: Service, deploy: Deploy) -> None:
    deploy(V3)
    run = _target(service).run_beside(Colour.GREEN, ["/opt/demo/integrity_check.py"], 30)
    assert run.exit_code == 0, run.output
    assert run.colour == "green" and run.release == V3
