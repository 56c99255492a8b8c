"""Render the router's HAProxy configuration and read the routing it describes.

The file is the router's persisted desired state: a restarted router loads it and routes
exactly as the last switch left things. Each listener has a backend of the same name holding
both colours as servers; the server that must not get traffic carries ``disabled``.

A third listener, on a port that is neither live nor preview and never published on the
host, serves Prometheus: HAProxy's built-in exporter on ``/metrics`` (every request per
backend and server, that is per listener and colour) and each colour's own ``/metrics`` on
``/colours/<colour>/metrics``, whichever colour is live, so a scraper that reaches the router
needs no address of the colours, which come and go with every deploy.
"""

from __future__ import annotations

import re

from handoff.bluegreen.config import BlueGreenConfig, Colour, Listener
from handoff.bluegreen.errors import BlueGreenError

#: Ports the listeners bind inside the router container (published to the configured ones).
CONTAINER_PORTS = {Listener.LIVE: 8080, Listener.PREVIEW: 8081}
#: The metrics listener's port inside the router: reached over Docker networks, never published.
METRICS_PORT = 8404
CONFIG_PATH = "/var/lib/handoff-router/haproxy.cfg"
#: The live listener's certificate and key inside the router (mode 0600, owned by haproxy);
#: a renewal replaces it through the runtime API (`set ssl cert`), then on disk.
TLS_PEM_PATH = "/var/lib/handoff-router/tls/live.pem"
_TLS_BIND = f" ssl crt {TLS_PEM_PATH} alpn http/1.1"
#: What may be written into the file unquoted: names and ports (no space, '#', quote, newline).
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

_HEADER = """\
# Rendered by handoff.bluegreen for service {service}; do not edit by hand.
# The engine rewrites this file (validated with `haproxy -c` first) on every switch so a
# restarted router keeps routing as the runtime API last set it.
global
    stats socket /run/haproxy/admin.sock mode 600 level admin
    stats timeout 10s
    # SIGUSR1 (the container's stop signal) lets in-flight requests finish first.
    hard-stop-after 10s
    maxconn 4096

# Docker's embedded DNS: a colour recreated with a new address is found without a reload.
resolvers docker
    nameserver dockerdns 127.0.0.11:53
    accepted_payload_size 8192
    resolve_retries 3
    timeout resolve 1s
    timeout retry 1s
    hold valid 2s
    hold nx 2s
    hold obsolete 2s

defaults
    mode http
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
    timeout queue 10s
    # Only requests that never reached a server are retried: a write that reached one
    # must not be sent twice.
    retries 3
    retry-on conn-failure
    option redispatch 1
    default-server init-addr last,libc,none resolvers docker resolve-prefer ipv4
"""

_FRONTEND = """
frontend {name}
    bind :{port}{tls}
    # Names the colour that answered; probes and load tests measure switches with it.
    http-response set-header X-Handoff-Server %s
    default_backend {name}
"""

_SERVER = "    server {colour} {host}:{port}{disabled}\n"

_METRICS = """
# Prometheus: HAProxy's exporter, and each colour's /metrics whichever colour is live.
frontend metrics
    bind :{port}
    no log
    http-request use-service prometheus-exporter if {{ path /metrics }}
    acl blue_metrics path /colours/blue/metrics
    acl green_metrics path /colours/green/metrics
    http-request deny deny_status 404 unless blue_metrics || green_metrics
    use_backend colour_blue if blue_metrics
    use_backend colour_green if green_metrics
"""

_COLOUR_BACKEND = """
backend colour_{colour}
    http-request set-path /metrics
    server {colour} {host}:{port}
"""
_SERVER_LINE = re.compile(r"^\s*server\s+(blue|green)\s+\S+(.*)$")
_BACKEND_LINE = re.compile(r"^\s*backend\s+(\S+)\s*$")


def _token(value: object, what: str) -> str:
    """Return a value safe to write unquoted into the file, or raise BlueGreenError."""
    text = str(value)
    if not _TOKEN.match(text):
        raise BlueGreenError(
            f"router config: {what} {text!r} cannot be written into haproxy.cfg: expected "
            "letters, digits, '.', '_' or '-' (at most 63 characters)"
        )
    return text


def render(config: BlueGreenConfig, live: Colour | None, preview: Colour | None) -> str:
    """Return the configuration that sends live traffic to ``live`` and preview to ``preview``."""
    service = _token(config.service, "service")
    port = _token(config.service_port, "service port")
    hosts = {c: _token(config.container_name(c), "container name") for c in Colour}
    parts = [_HEADER.format(service=service)]
    for listener in Listener:
        tls = _TLS_BIND if listener is Listener.LIVE and config.live_tls else ""
        parts.append(_FRONTEND.format(name=listener.value, port=CONTAINER_PORTS[listener], tls=tls))
    for listener, target in ((Listener.LIVE, live), (Listener.PREVIEW, preview)):
        parts.append(f"\nbackend {listener.value}\n")
        for colour in Colour:
            parts.append(
                _SERVER.format(
                    colour=colour.value,
                    host=hosts[colour],
                    port=port,
                    disabled="" if colour is target else " disabled",
                )
            )
    parts.append(_METRICS.format(port=METRICS_PORT))
    for colour in Colour:
        parts.append(_COLOUR_BACKEND.format(colour=colour.value, host=hosts[colour], port=port))
    return "".join(parts)


def routing(text: str) -> dict[Listener, Colour | None]:
    """Return the colour each listener's backend enables in a configuration text.

    None means no server (or, ambiguously, more than one) is enabled in that backend.
    """
    enabled: dict[str, list[Colour]] = {}
    backend: str | None = None
    for line in text.splitlines():
        if match := _BACKEND_LINE.match(line):
            backend = match.group(1)
            enabled.setdefault(backend, [])
        elif (
            (match := _SERVER_LINE.match(line))
            and backend is not None
            and "disabled" not in match.group(2).split()
        ):
            enabled[backend].append(Colour(match.group(1)))
    result: dict[Listener, Colour | None] = {}
    for listener in Listener:
        found = enabled.get(listener.value, [])
        result[listener] = found[0] if len(found) == 1 else None
    return result
