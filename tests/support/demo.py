"""The demo environment for integration tests: a Docker engine with the demo images."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
from pathlib import Path

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import Handoff
from handoff.runtime.engine_factory import engine_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "include" / "demo" / "scripts"
V1 = "handoff-demo:1.0.0"
V2 = "handoff-demo:1.1.0"
V3 = "handoff-demo:1.2.0"  # the release the validation gates are drilled with (fault toggles)


def ensure_demo_images() -> None:
    """Start a Docker engine if none answers and build the demo images that are missing."""
    for script in ("ensure-docker.sh", "build-images.sh"):
        done = subprocess.run(
            [str(SCRIPTS / script)], capture_output=True, text=True, timeout=1800, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{script} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    """Return a loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def put_v1_live(handoff: Handoff) -> BlueGreenEngine:
    """Make release 1.0.0 live on blue for a handoff's service, as before a real handoff.

    Blue starts without the sidecar's environment (it is the release already running, not the
    one handed over); the engine returned has the handoff's own settings.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    config = engine_config(handoff.acceptance, handoff.environment)
    baseline = BlueGreenEngine(dataclasses.replace(config, environment=()))
    baseline.deploy(V1)
    baseline.switch(V1)
    return BlueGreenEngine(config)
