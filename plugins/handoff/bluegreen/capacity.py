"""What a Docker engine has free for a second colour: memory, disk, its version.

The engine's host may be another machine than the worker's, so memory and disk are read
where the colours run: one short-lived container of the router image (present on every
engine that serves the service) prints the host's `/proc/meminfo` MemTotal and MemAvailable
and `df` of its own root, which is the engine's data root (where a new colour's layers go).
`docker info` is not asked: the compose stack's socket proxy refuses it (it describes the
whole host), and it gives no free memory anyway. It has no network, no capability
and is always removed. The live colour's memory limit and usage come from its inspection
and one stats sample.
"""

from __future__ import annotations

import docker
from docker.models.containers import Container

from handoff.bluegreen import short_lived
from handoff.bluegreen.config import BlueGreenConfig
from handoff.bluegreen.errors import BlueGreenError
from handoff.target.models import EngineCapacity

ROLE = "capacity-probe"
# Prints "MemTotal: <kB> kB", "MemAvailable: <kB> kB", then the df line of / (POSIX output,
# 1 kB blocks).
_SCRIPT = "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo && df -Pk / | tail -n 1"
_WAIT_S = 20.0


def parse_probe_output(text: str) -> tuple[int, int, int]:
    """Return (total memory, available memory, free disk) in bytes from the probe's lines."""
    total = available = free = -1
    for line in text.splitlines():
        fields = line.split()
        if line.startswith("MemTotal:") and len(fields) >= 2:
            total = int(fields[1]) * 1024
        elif line.startswith("MemAvailable:") and len(fields) >= 2:
            available = int(fields[1]) * 1024
        elif len(fields) >= 6 and fields[3].isdigit():
            free = int(fields[3]) * 1024
    if total < 0 or available < 0 or free < 0:
        raise BlueGreenError(f"capacity probe: unexpected output {text[:200]!r}")
    return total, available, free


def measure(
    client: docker.DockerClient, config: BlueGreenConfig, live: Container | None
) -> EngineCapacity:
    """Measure the engine: version, total and available memory, free disk, the live colour."""
    version = str(client.version().get("Version", ""))
    total, available, free = _probe(client, config)
    live_limit = live_usage = 0
    if live is not None:
        live_limit = int((live.attrs.get("HostConfig") or {}).get("Memory") or 0)
        stats = live.stats(stream=False, one_shot=True)
        live_usage = int((stats.get("memory_stats") or {}).get("usage") or 0)
    return EngineCapacity(
        engine_version=version,
        total_memory=total,
        available_memory=available,
        free_disk=free,
        colour_limit=config.limits.memory_mb * 2**20,
        live_limit=live_limit,
        live_usage=live_usage,
    )


def _probe(client: docker.DockerClient, config: BlueGreenConfig) -> tuple[int, int, int]:
    output = short_lived.run_printing(client, config, ROLE, ["sh", "-c", _SCRIPT], _WAIT_S)
    return parse_probe_output(output)
