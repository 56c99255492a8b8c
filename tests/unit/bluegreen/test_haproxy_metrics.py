"""The router's metrics listener: HAProxy's exporter and the colours' /metrics, nothing else."""

from __future__ import annotations

import dataclasses

import pytest

from handoff.bluegreen import BlueGreenConfig, Colour, Listener
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.haproxy_cfg import CONTAINER_PORTS, METRICS_PORT, render, routing

CONFIG = BlueGreenConfig(service="shop", live_port=8080, preview_port=8081, service_port=9000)


def test_the_metrics_listener_is_neither_live_nor_preview() -> None:
    assert METRICS_PORT not in CONTAINER_PORTS.values()
    text = render(CONFIG, Colour.BLUE, Colour.GREEN)
    frontend = text.split("frontend metrics\n", 1)[1].split("\nbackend ", 1)[0]
    assert f"bind :{METRICS_PORT}" in frontend
    assert "http-request use-service prometheus-exporter if { path /metrics }" in frontend
    # Anything but the exporter and the two colours' metrics paths is refused.
    assert "http-request deny deny_status 404 unless blue_metrics || green_metrics" in frontend


def test_each_colour_is_scraped_through_its_own_backend_whoever_is_live() -> None:
    text = render(CONFIG, Colour.GREEN, None)
    for colour in ("blue", "green"):
        backend = text.split(f"backend colour_{colour}\n", 1)[1]
        assert backend.startswith(
            f"    http-request set-path /metrics\n    server {colour} shop-{colour}:9000\n"
        )
    # The colour backends never change what the live and preview listeners route to.
    assert routing(text) == {Listener.LIVE: Colour.GREEN, Listener.PREVIEW: None}


def test_nothing_unchecked_is_written_into_the_file() -> None:
    hostile = dataclasses.replace(CONFIG)
    object.__setattr__(hostile, "service", "shop\n    bind :22")  # past the config's own check
    with pytest.raises(BlueGreenError, match=r"cannot be written into haproxy\.cfg"):
        render(hostile, Colour.BLUE, None)
