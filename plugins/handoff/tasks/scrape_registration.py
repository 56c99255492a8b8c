"""At deploy, the service is registered with Prometheus, so the windows judge real traffic.

In an environment with an ``observability`` section, the deploy task asks the target to
make the service's metrics reachable from the observability network (for Docker + HAProxy:
the router joins it) and writes the service's targets files into the folder Prometheus
watches (`handoff.analysis.scrape_targets`). Registering again is a no-op, so a retried
deploy converges. It never fails the deploy: a service Prometheus does not scrape is judged
by the probes alone, and its monitoring criteria say "not verified".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from handoff.analysis import scrape_targets
from handoff.catalog import Handoff
from handoff.target import TargetError
from handoff.target.port import DeploymentTarget

log = logging.getLogger(__name__)


def register(
    handoff: Handoff, target: DeploymentTarget, folder: Path | None = None
) -> dict[str, Any]:
    """Register the service with Prometheus; return what was done (or why not)."""
    assert handoff.environment is not None and handoff.acceptance is not None
    settings = handoff.environment.observability
    if settings is None:
        return {"registered": False, "why": "the environment has no observability section"}
    folder = folder or scrape_targets.default_targets_dir()
    started = time.monotonic()
    try:
        points = target.expose_metrics(settings.network, handoff.acceptance.service.health_path)
        written = scrape_targets.write(folder, scrape_targets.render(target.service, points))
    except (TargetError, OSError, ValueError) as exc:
        log.warning(
            "monitoring: %s is not registered with Prometheus (%s); the windows judge by their "
            "probes alone",
            target.service,
            exc,
        )
        return {"registered": False, "why": str(exc)}
    log.info(
        "monitoring: %s registered with Prometheus on %s (exporter %s; %s) in %.0f ms",
        target.service,
        settings.network,
        points.exporter,
        f"{len(written)} targets files written" if written else "targets files unchanged",
        (time.monotonic() - started) * 1000,
    )
    return {"registered": True, "network": settings.network, "exporter": points.exporter}


def is_registered(service: str, folder: Path | None = None) -> bool:
    """Tell whether the service has targets files in the folder Prometheus reads."""
    return service in scrape_targets.services_in(folder or scrape_targets.default_targets_dir())
