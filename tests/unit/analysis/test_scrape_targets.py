"""A service's targets files: what Prometheus reads of it, written safely (scrape_targets)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from handoff.analysis import scrape_targets
from handoff.bluegreen.target import router_scrape_points
from handoff.target import ScrapePoints


def test_the_router_serves_every_job_of_a_service() -> None:
    files = scrape_targets.render("shop", router_scrape_points("shop-router", "/health"))
    assert sorted(files) == ["shop.colours.json", "shop.probes.json", "shop.routers.json"]
    routers = json.loads(files["shop.routers.json"])
    assert routers == [{"targets": ["shop-router:8404"], "labels": {"service": "shop"}}]
    colours = json.loads(files["shop.colours.json"])
    assert [(c["targets"], c["labels"]) for c in colours] == [
        (
            ["shop-router:8404"],
            {"__metrics_path__": f"/colours/{c}/metrics", "service": "shop", "colour": c},
        )
        for c in ("blue", "green")
    ]
    probes = json.loads(files["shop.probes.json"])
    assert [(p["targets"][0], p["labels"]["listener"]) for p in probes] == [
        ("http://shop-router:8080/health", "live"),
        ("http://shop-router:8081/health", "preview"),
    ]


@pytest.mark.parametrize("name", ["Shop", "shop router", 'shop"]', "a" * 64, "", "../x"])
def test_a_service_name_that_could_break_a_file_or_a_label_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be scraped"):
        scrape_targets.render(name, router_scrape_points("shop-router", "/health"))


@pytest.mark.parametrize(
    "points",
    [
        ScrapePoints('r:1"]', {}, {}),
        ScrapePoints("r:8404", {"blue": ("r:8404", "/m etrics")}, {}),
        ScrapePoints("r:8404", {}, {"live": "http://r:8080/health?x=$(id)"}),
    ],
)
def test_an_address_or_path_that_is_not_plain_is_refused(points: ScrapePoints) -> None:
    with pytest.raises(ValueError, match="not a plain"):
        scrape_targets.render("shop", points)


def test_files_are_written_once_readable_by_prometheus_and_removed_by_service(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "targets"
    files = scrape_targets.render("shop", router_scrape_points("shop-router", "/health"))
    assert len(scrape_targets.write(folder, files)) == 3
    assert scrape_targets.write(folder, files) == []  # unchanged: nothing rewritten
    for name in files:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644
        assert json.loads((folder / name).read_text())
    other = scrape_targets.render("cart", router_scrape_points("cart-router", "/up"))
    scrape_targets.write(folder, other)
    assert scrape_targets.services_in(folder) == {"shop", "cart"}
    assert len(scrape_targets.remove(folder, ["shop"])) == 3
    assert scrape_targets.services_in(folder) == {"cart"}
    assert not list(folder.glob(".*"))  # no temporary file left behind
