"""At deploy, a service of an observed environment is registered with Prometheus, else not."""

from __future__ import annotations

import json
from pathlib import Path

from handoff.catalog import load_handoff
from handoff.target import InvalidState
from handoff.tasks import scrape_registration
from tests.support.fake_target import FakeTarget
from tests.support.handoffs import make_handoffs

HANDOFF_ID = "PROD-DEPLOYMENT-001"


def _handoff(tmp_path: Path, observed: bool):  # type: ignore[no-untyped-def]
    folder = make_handoffs(
        tmp_path / ("on" if observed else "off"), [HANDOFF_ID], observed=observed
    )
    return load_handoff(folder / f"{HANDOFF_ID}.md")


def test_an_observed_environment_registers_the_service_once(tmp_path: Path) -> None:
    handoff = _handoff(tmp_path, observed=True)
    target, folder = FakeTarget(service="ux-portal"), tmp_path / "targets"
    done = scrape_registration.register(handoff, target, folder)
    assert done == {
        "registered": True,
        "network": "handoff-observability",
        "exporter": "ux-portal-router:8404",
    }
    assert target.calls == [("expose_metrics", ("handoff-observability", "/health"))]
    assert scrape_registration.is_registered("ux-portal", folder)
    routers = json.loads((folder / "ux-portal.routers.json").read_text())
    assert routers[0]["labels"] == {"service": "ux-portal"}
    assert scrape_registration.register(handoff, target, folder)["registered"]  # a retry


def test_an_unobserved_environment_or_a_refusing_target_registers_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "targets"
    target = FakeTarget(service="ux-portal")
    done = scrape_registration.register(_handoff(tmp_path, observed=False), target, folder)
    assert done["registered"] is False and target.calls == []
    target.fail("expose_metrics", InvalidState("the observability network x does not exist"))
    done = scrape_registration.register(_handoff(tmp_path, observed=True), target, folder)
    assert done == {"registered": False, "why": "the observability network x does not exist"}
    assert not scrape_registration.is_registered("ux-portal", folder)
