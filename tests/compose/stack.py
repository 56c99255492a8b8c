"""A docker-compose stack of the project, started under its own name, ports and secrets.

The stack is the project's docker-compose.yaml plus an override that mounts a handoffs
folder of the test's own (at the same path as on the host, so host and containers agree on
every path). The environment file is written here with fresh secrets and free loopback ports,
and compose runs with nothing inherited from the caller's HANDOFF_* / AIRFLOW_* variables,
so neither a developer's .env nor another stack on the same Docker engine is touched.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.demo import ROOT, free_port

ENSURE_COMPOSE = ROOT / "include" / "compose" / "ensure-compose.sh"
# Services that mount the test's handoffs folder (they read contracts or write reports).
HANDOFF_READERS = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "demo",
)


def compose_command() -> list[str]:
    """Return the compose tool's command (installed first when missing)."""
    done = subprocess.run(
        [str(ENSURE_COMPOSE)], capture_output=True, text=True, check=True, timeout=600
    )
    return done.stdout.strip().splitlines()[-1].split()


@dataclass
class Stack:
    """One compose project: how to call compose on it and where its API answers."""

    project: str
    workdir: Path
    settings: dict[str, str]
    command: list[str] = field(default_factory=compose_command)

    @property
    def api_url(self) -> str:
        """Return the api-server's address on the host's loopback."""
        return f"http://127.0.0.1:{self.settings['HANDOFF_API_PORT']}"

    @property
    def env_file(self) -> Path:
        return self.workdir / "stack.env"

    @property
    def override_file(self) -> Path:
        return self.workdir / "docker-compose.override.yaml"

    def write_files(self) -> None:
        """Write the environment file and the override that mounts the handoffs folder."""
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.settings.items()))
        mount = f"{self.workdir}:{self.workdir}"
        services = "".join(
            f"  {name}:\n    volumes:\n      - {mount}\n" for name in HANDOFF_READERS
        )
        self.override_file.write_text(f"services:\n{services}")

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run compose on this project; raise with its output when it fails and check is set."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HANDOFF_", "AIRFLOW", "POSTGRES_", "COMPOSE_"))
        }
        done = subprocess.run(
            [
                *self.command,
                "--project-name",
                self.project,
                "--project-directory",
                str(ROOT),
                "--env-file",
                str(self.env_file),
                "--file",
                str(ROOT / "docker-compose.yaml"),
                "--file",
                str(self.override_file),
                "--profile",
                "demo",
                *args,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"compose {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def logs(self, service: str, tail: int | None = None) -> str:
        """Return a service's output (all of it, or its last ``tail`` lines)."""
        extra = ["--no-log-prefix", *(["--tail", str(tail)] if tail else [])]
        return self.compose("logs", "--no-color", *extra, service, check=False).stdout

    def inspect(self, service: str, *formats: str) -> list[Any]:
        """Return `docker inspect` values (JSON formats) of a service's (first) container."""
        ids = self.compose("ps", "-q", service, check=False).stdout.split()
        assert ids, f"no container for {service}"
        done = subprocess.run(
            ["docker", "inspect", "--format", "\t".join(formats), ids[0]],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        return [json.loads(part) for part in done.stdout.strip().split("\t")]

    def container_state(self, service: str) -> dict[str, Any] | None:
        """Return Docker's State of a service's (first) container, or None when it has none."""
        ids = self.compose("ps", "-q", service, check=False).stdout.split()
        if not ids:
            return None
        done = subprocess.run(
            ["docker", "inspect", "--format", "{{json .State}}", ids[0]],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if done.returncode != 0:
            return None
        state: dict[str, Any] = json.loads(done.stdout)
        return state


def stack_settings(handoffs: Path, slack_webhook: str, network: str) -> dict[str, str]:
    """Return fresh secrets and free loopback ports for a test stack reading ``handoffs``.

    ``network`` names the stack's observability network (the machine's own stack of
    `make observability` may hold the default name meanwhile).
    """
    return {
        "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "HANDOFF_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "HANDOFF_SLACK_WEBHOOK_URL": slack_webhook,
        "HANDOFF_DIR": str(handoffs),
        "HANDOFF_API_PORT": str(free_port()),
        "HANDOFF_POSTGRES_PORT": str(free_port()),
        "HANDOFF_REDIS_PORT": str(free_port()),
        "HANDOFF_WORKER_LOG_PORT": str(free_port()),
        "HANDOFF_TRIGGER_LOG_PORT": str(free_port()),
        "HANDOFF_WORKER_CONCURRENCY": "4",
        # The stack's own Prometheus, Alertmanager and exporters, beside `make observability`.
        "HANDOFF_PROMETHEUS_PORT": str(free_port()),
        "HANDOFF_ALERTMANAGER_PORT": str(free_port()),
        "HANDOFF_BLACKBOX_PORT": str(free_port()),
        "HANDOFF_NODE_EXPORTER_PORT": str(free_port()),
        "HANDOFF_OBSERVABILITY_NETWORK": network,
    }


def default_bridge_gateway() -> str:
    """Return the gateway of Docker's default bridge: this machine, as host-gateway names it.

    A receiver listening there is reached by the stack's Alertmanager (as
    host.docker.internal) and, being a local address, by the components on the host network.
    """
    found = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    for pool in json.loads(found.stdout) or []:
        if pool.get("Gateway"):
            return str(pool["Gateway"])
    raise RuntimeError("Docker's default bridge has no gateway address")


class Deadline:
    """A time budget shared by the steps of one test run."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def wait_for(
        self, what: str, probe: Callable[[], Any], within_s: float, every_s: float = 2.0
    ) -> Any:
        """Poll until ``probe`` returns a true value; raise TimeoutError when time runs out."""
        end = time.monotonic() + min(within_s, self.left())
        while True:
            try:
                value = probe()
            except requests.RequestException:
                value = None
            if value:
                return value
            if time.monotonic() >= end:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(every_s)
