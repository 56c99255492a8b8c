"""The rendered router configuration and the routing read back from it and from HAProxy."""

from __future__ import annotations

import pytest

from handoff.bluegreen import BlueGreenConfig, Colour, Listener
from handoff.bluegreen.haproxy_cfg import render, routing
from handoff.bluegreen.router import runtime_routing

CONFIG = BlueGreenConfig(service="shop", live_port=8080, preview_port=8081, service_port=9000)


@pytest.mark.parametrize("live", [None, Colour.BLUE, Colour.GREEN])
@pytest.mark.parametrize("preview", [None, Colour.BLUE, Colour.GREEN])
def test_routing_reads_back_what_render_wrote(live: Colour | None, preview: Colour | None) -> None:
    text = render(CONFIG, live, preview)
    assert routing(text) == {Listener.LIVE: live, Listener.PREVIEW: preview}


def test_render_names_each_colour_container_and_disables_the_other() -> None:
    text = render(CONFIG, Colour.GREEN, Colour.BLUE)
    assert (
        "backend live\n"
        "    server blue shop-blue:9000 disabled\n"
        "    server green shop-green:9000\n"
        "\n"
        "backend preview\n"
        "    server blue shop-blue:9000\n"
        "    server green shop-green:9000 disabled\n"
    ) in text
    assert "stats socket /run/haproxy/admin.sock" in text
    assert "retry-on conn-failure" in text  # writes that reached a server are never resent


def test_hand_edited_config_with_both_enabled_is_ambiguous() -> None:
    text = render(CONFIG, Colour.BLUE, Colour.GREEN).replace(" disabled", "")
    assert routing(text) == {Listener.LIVE: None, Listener.PREVIEW: None}


SERVERS_STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight
4 live 1 blue 172.18.0.2 2 4 1 1
4 live 2 green 172.18.0.4 0 5 1 1
5 preview 1 blue 172.18.0.2 0 1 1 1
5 preview 2 green - 0 32 1 1
"""


def test_runtime_routing_ignores_config_and_resolution_flags() -> None:
    # blue live: admin 4 is only the config's `disabled` remembered after `state ready`;
    # green preview: admin 32 is resolution maintenance (no container yet), not a choice.
    assert runtime_routing(SERVERS_STATE) == {
        Listener.LIVE: Colour.BLUE,
        Listener.PREVIEW: Colour.GREEN,
    }


def test_runtime_routing_with_both_servers_ready_is_ambiguous() -> None:
    both = SERVERS_STATE.replace("4 live 2 green 172.18.0.4 0 5", "4 live 2 green 172.18.0.4 2 0")
    assert runtime_routing(both)[Listener.LIVE] is None
