"""Where Prometheus finds each service: one set of file_sd targets files per service.

The files live in a folder Prometheus reads (mounted read-only into its container by
include/observability/stack.py, a shared volume in docker-compose) and watches: a file
written here is scraped within one scrape interval, with no reload and no Docker socket
for Prometheus. Each service has three files, one per job of prometheus.yml:

- ``<service>.routers.json``: HAProxy's exporter (job ``haproxy``);
- ``<service>.colours.json``: each colour's /metrics through the router (job ``service``);
- ``<service>.probes.json``: the live and preview health URLs (job ``blackbox``).

A file is replaced in one rename, so Prometheus never reads half of one; every value in it
is a checked name or a JSON string written by ``json.dumps``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from handoff.target.models import ScrapePoints

#: The jobs of prometheus.yml fed by these files (file suffix -> job name).
JOBS = {"routers": "haproxy", "colours": "service", "probes": "blackbox"}
#: A service name as file names, labels and PromQL take it unquoted.
SERVICE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
#: host:port or a URL whose host is a container name: nothing YAML or a shell would read.
ADDRESS = re.compile(r"^(https?://)?[a-z0-9][a-z0-9_.-]{0,62}:[0-9]{1,5}(/[A-Za-z0-9_./-]*)?$")
URL_PATH = re.compile(r"^/[A-Za-z0-9_./-]{0,200}$")


def default_targets_dir() -> Path:
    """Return the host folder of the targets files (HANDOFF_PROMETHEUS_TARGETS_DIR)."""
    configured = os.environ.get("HANDOFF_PROMETHEUS_TARGETS_DIR")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "handoff" / "prometheus-targets"


def file_names(service: str) -> list[str]:
    """Return the names of one service's targets files."""
    return [f"{checked_service(service)}.{suffix}.json" for suffix in JOBS]


def checked_service(service: str) -> str:
    """Return a service name safe in a file name and a label, or raise ValueError."""
    if not SERVICE.match(service):
        raise ValueError(f"service {service!r} cannot be scraped: expected a lowercase name")
    return service


def _plain(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{what} {value!r} is not a plain host:port, URL or path")
    return value


def render(service: str, points: ScrapePoints) -> dict[str, str]:
    """Return one service's targets files (file name -> JSON)."""
    checked_service(service)
    routers = [
        {
            "targets": [_plain(ADDRESS, points.exporter, "scrape address")],
            "labels": {"service": service},
        }
    ]
    colours = [
        {
            "targets": [_plain(ADDRESS, address, "scrape address")],
            "labels": {
                "__metrics_path__": _plain(URL_PATH, path, "metrics path"),
                "service": service,
                "colour": colour,
            },
        }
        for colour, (address, path) in sorted(points.colour_metrics.items())
    ]
    probes = [
        {
            "targets": [_plain(ADDRESS, url, "health URL")],
            "labels": {"service": service, "listener": listener},
        }
        for listener, url in sorted(points.health_urls.items())
    ]
    contents = {"routers": routers, "colours": colours, "probes": probes}
    return {
        f"{service}.{suffix}.json": json.dumps(contents[suffix], indent=2) + "\n" for suffix in JOBS
    }


def write(folder: Path, files: dict[str, str]) -> list[str]:
    """Write the files that changed (each in one rename); return the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        path = folder / name
        if path.exists() and path.read_text() == text:
            continue
        # 0644: Prometheus' own user reads them; they hold names and ports, no secret.
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
        written.append(name)
    return written


def services_in(folder: Path) -> set[str]:
    """Return the services that have targets files in the folder."""
    suffix = ".routers.json"
    return {p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}")} if folder.is_dir() else set()


def remove(folder: Path, services: Iterable[str]) -> list[str]:
    """Remove the targets files of services; return the names removed."""
    removed = []
    for service in services:
        for name in file_names(service):
            path = folder / name
            if path.exists():
                path.unlink()
                removed.append(name)
    return removed
