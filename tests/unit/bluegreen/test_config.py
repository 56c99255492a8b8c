"""Configuration validation and naming."""

from __future__ import annotations

import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenError, Colour


def test_names_derive_from_the_service() -> None:
    config = BlueGreenConfig(service="shop", live_port=8080, preview_port=8081)
    assert config.container_name(Colour.GREEN) == "shop-green"
    assert config.router_name == "shop-router"
    assert config.network_name == "shop-net"
    assert config.lock_name == "shop-deploy-lock"
    assert Colour.BLUE.other is Colour.GREEN and Colour.GREEN.other is Colour.BLUE


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(BlueGreenError) as err:
        BlueGreenConfig(service="Shop Front", live_port=70000, preview_port=70000)
    message = str(err.value)
    assert "service 'Shop Front' must be lowercase" in message
    assert "live_port 70000 is not a TCP port" in message
    assert "live_port and preview_port are both 70000" in message
