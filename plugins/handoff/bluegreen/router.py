"""The HAProxy router: its container, its runtime API, its persisted configuration.

Traffic moves through the runtime API over the admin socket (``docker exec`` of ``hactl`` in
the router, so it works wherever the Docker engine is); no reload ever happens, so no
keep-alive connection is closed under a client. The same routing is persisted in the config
file, validated with ``haproxy -c`` before it atomically replaces the old one.
"""

from __future__ import annotations

import logging
import time

import docker
import docker.errors
from docker.models.containers import Container

from handoff.bluegreen import dockerapi, haproxy_cfg, tls
from handoff.bluegreen.config import (
    LABEL_ROLE,
    LABEL_SERVICE,
    BlueGreenConfig,
    Colour,
    Listener,
    Role,
)
from handoff.bluegreen.errors import PortTaken, RouterConfigRejected, RouterUnreachable
from handoff.bluegreen.origin import origin_labels
from handoff.target.models import RouterState

log = logging.getLogger(__name__)

# srv_admin_state bits that keep a server from getting traffic by an operator's choice:
# forced maintenance (also set by `disabled`), inherited maintenance, forced/inherited drain.
# Not 0x04: it only records that the config said `disabled` and stays after `state ready`.
# Not 0x20 (resolution): a colour with no container resolves to nothing, that is no choice.
_ADMIN_OFF = 0x01 | 0x02 | 0x08 | 0x10
_SOCKET_WAIT_S = 15.0


class Router:
    """One service's router container, driven through Docker."""

    def __init__(self, client: docker.DockerClient, config: BlueGreenConfig) -> None:
        self.client = client
        self.config = config

    # -- container ---------------------------------------------------------------------

    def container(self) -> Container | None:
        """Return the router container, or None when it does not exist."""
        return dockerapi.get(self.client, self.config.router_name)

    def ensure_running(self) -> Container:
        """Create or start the router when needed and wait for its admin socket."""
        cfg = self.config
        container = self.container()
        if container is None:
            dockerapi.require_image(self.client, cfg.router_image, "router")
            dockerapi.ensure_network(self.client, cfg.network_name, cfg.service)
            log.info(
                "creating router %s (live on %s:%s, preview on %s:%s)",
                cfg.router_name,
                cfg.router_bind,
                cfg.live_port,
                cfg.router_bind,
                cfg.preview_port,
            )
            container = self.client.containers.create(
                cfg.router_image,
                name=cfg.router_name,
                detach=True,
                network=cfg.network_name,
                ports={
                    f"{haproxy_cfg.CONTAINER_PORTS[lsn]}/tcp": (cfg.router_bind, cfg.port_of(lsn))
                    for lsn in Listener
                },
                volumes={cfg.router_volume: {"bind": "/var/lib/handoff-router", "mode": "rw"}},
                environment={"HANDOFF_ROUTER_CONFIG": haproxy_cfg.render(cfg, None, None)},
                labels={
                    LABEL_SERVICE: cfg.service,
                    LABEL_ROLE: Role.ROUTER.value,
                    **origin_labels(),
                },
                restart_policy={"Name": "unless-stopped"},
                **dockerapi.hardening(cfg.limits),
            )
            if cfg.live_tls:  # before the first start: the seeded config names the file
                tls.put_pem(container, tls.read_pem(cfg.live_tls), renewal=False)
        container.reload()
        if container.status != "running":
            self._start(container)
            self.wait_for_socket()
        return container

    def _start(self, container: Container) -> None:
        log.info("starting router %s", container.name)
        try:
            container.start()
        except docker.errors.APIError as exc:
            text = str(exc)
            if "already allocated" in text or "address already in use" in text:
                raise PortTaken(
                    f"router {container.name} cannot publish its listeners: {exc}. Port "
                    f"{self.config.live_port} (live) or {self.config.preview_port} (preview) "
                    "is used by another process or container; free it or choose other ports"
                ) from exc
            raise

    def restart(self) -> None:
        """Restart the router container (it reloads the persisted configuration)."""
        container = self.container()
        if container is None:
            raise RouterUnreachable(f"router {self.config.router_name} does not exist")
        log.info("restarting router %s", container.name)
        container.restart(timeout=10)
        self.wait_for_socket()

    def wait_for_socket(self) -> None:
        """Wait until the admin socket answers, or raise RouterUnreachable."""
        deadline = time.monotonic() + _SOCKET_WAIT_S
        while True:
            try:
                self.command("show info")
                return
            except RouterUnreachable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    # -- runtime API and persisted configuration ----------------------------------------
    # Every `docker exec` costs 0.1-0.3 s here while the commands themselves take
    # milliseconds, so each phase is one exec: a rollback must finish within seconds.

    def command(self, line: str) -> str:
        """Run a line of admin-socket commands in the router and return HAProxy's answer."""
        return self._run('hactl "$HANDOFF_CMDS"', {"HANDOFF_CMDS": line}, line)

    def _run(self, script: str, env: dict[str, str], what: str) -> str:
        name = self.config.router_name
        container = self.container()
        if container is None or container.status != "running":
            state = "missing" if container is None else container.status
            raise RouterUnreachable(
                f"router container {name} is {state}; its admin socket cannot be reached. "
                "Run a deploy (it creates and starts the router) or `docker start` it"
            )
        code, output = container.exec_run(["sh", "-c", script], environment=env)
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
        if code == 3:
            raise RouterConfigRejected(
                f"haproxy -c rejected the new configuration for {self.config.service}; the old "
                f"configuration stays in place and traffic is unaffected. haproxy said: "
                f"{text.strip()}"
            )
        if code != 0:
            raise RouterUnreachable(
                f"router {name}: admin socket did not answer `{what}` (exit {code}): "
                f"{text.strip()}. Check the router's logs: docker logs {name}"
            )
        refused = [ln for ln in text.splitlines() if ln.startswith(_REFUSALS)]
        if refused:
            raise RouterUnreachable(f"router {name} refused `{what}`: {'; '.join(refused)}")
        return text

    def converge(
        self,
        live: Colour | None,
        preview: Colour | None,
        addresses: dict[Colour, str] | None = None,
    ) -> tuple[RouterState, bool]:
        """Persist then apply a routing (and colour addresses) in one exec.

        Returns the routing found just before (for idempotency: the caller tells whether
        anything had to change) and whether the file was replaced. The rendered file is
        validated with ``haproxy -c`` inside the router and renamed over the old one (same
        directory: atomic) only if valid; a rejected text leaves file and traffic as they
        were. Runtime commands then move traffic without a reload: enabling comes before
        disabling, so a listener always has a server. Every command is idempotent.
        """
        commands = []
        for colour, address in (addresses or {}).items():
            for lsn in Listener:
                commands.append(
                    f"set server {lsn.value}/{colour.value} addr {address} "
                    f"port {self.config.service_port}"
                )
        for listener, target in ((Listener.LIVE, live), (Listener.PREVIEW, preview)):
            if target is not None:
                commands.append(f"set server {listener.value}/{target.value} state ready")
            for colour in Colour:
                if colour is not target:
                    commands.append(f"set server {listener.value}/{colour.value} state maint")
        line = "; ".join(commands)
        env = {"HANDOFF_CFG": haproxy_cfg.render(self.config, live, preview), "HANDOFF_CMDS": line}
        log.info(
            "router: live -> %s, preview -> %s (persist, then runtime: %s)",
            live.value if live else "none",
            preview.value if preview else "none",
            line,
        )
        output = self._run(_STATE + _CONVERGE, env, "converge")
        before_text, _, after_text = output.partition(f"{_END}\n")
        before = _parse_state(before_text)
        changed = after_text.startswith("persisted")
        log.info(
            "router: before: live %s, preview %s (file: live %s); file %s",
            before.live.value if before.live else "none",
            before.preview.value if before.preview else "none",
            before.persisted_live.value if before.persisted_live else "none",
            "validated and replaced" if changed else "unchanged",
        )
        return before, changed

    def renew_certificate(self, pem: bytes) -> str:
        """Replace the live certificate without a reload; return HAProxy's answers.

        Open TLS connections keep their session; new handshakes get the new certificate.
        """
        container = self.container()
        if container is None:
            raise RouterUnreachable(f"router {self.config.router_name} does not exist")
        tls.put_pem(container, pem, renewal=True)
        answer = self._run(
            'python3 -c "$HANDOFF_RENEW"', {"HANDOFF_RENEW": tls.RENEW_SCRIPT}, "renew"
        )
        log.info("router: live certificate renewed: %s", " / ".join(answer.split("\n")).strip())
        return answer

    def write_validated(self, text: str) -> None:
        """Validate a configuration text with ``haproxy -c`` and install it (no runtime change)."""
        self._run(_CONVERGE, {"HANDOFF_CFG": text, "HANDOFF_CMDS": ""}, "install configuration")

    # -- discovery ---------------------------------------------------------------------

    def state(self) -> RouterState:
        """Return runtime and persisted routing; a router that is not running routes nothing."""
        container = self.container()
        if container is None or container.status != "running":
            return RouterState(False, None, None, None, None)
        return _parse_state(self._run(_STATE, {}, "show servers state"))


def _parse_state(text: str) -> RouterState:
    runtime_text, _, persisted_text = text.partition(f"{_SPLIT}\n")
    runtime = runtime_routing(runtime_text)
    persisted = haproxy_cfg.routing(persisted_text.partition(_END)[0])
    return RouterState(
        running=True,
        live=runtime[Listener.LIVE],
        preview=runtime[Listener.PREVIEW],
        persisted_live=persisted[Listener.LIVE],
        persisted_preview=persisted[Listener.PREVIEW],
    )


_SPLIT = "@@handoff-persisted@@"
_END = "@@handoff-end-of-state@@"
_REFUSALS = ("No such", "Unknown command", "Require ", "Invalid ", "Unexpected")
# Runtime routing, then the persisted file, as found.
_STATE = f"""\
hactl "show servers state" || exit 2
echo {_SPLIT}
cat "{haproxy_cfg.CONFIG_PATH}"
echo {_END}
"""
# Persist (only when different; validate first), then the runtime line. Exit 3: rejected.
_CONVERGE = f"""\
new="{haproxy_cfg.CONFIG_PATH}.new"
printf '%s' "$HANDOFF_CFG" >"$new"
if cmp -s "$new" "{haproxy_cfg.CONFIG_PATH}"; then
    rm -f "$new"; echo unchanged
else
    out=$(haproxy -c -f "$new" 2>&1) || {{ rm -f "$new"; echo "$out"; exit 3; }}
    mv -f "$new" "{haproxy_cfg.CONFIG_PATH}" && echo persisted
fi
[ -z "$HANDOFF_CMDS" ] || hactl "$HANDOFF_CMDS"
"""


def runtime_routing(text: str) -> dict[Listener, Colour | None]:
    """Return the colour each listener sends traffic to, from `show servers state` output.

    None means no server, or both, get traffic (only seen between two steps of a switch).
    """
    header: list[str] = []
    enabled: dict[str, list[Colour]] = {lsn.value: [] for lsn in Listener}
    for line in text.splitlines():
        if line.startswith("# be_id"):
            header = line[2:].split()
            continue
        fields = line.split()
        if not header or len(fields) < len(header):
            continue
        row = dict(zip(header, fields, strict=False))
        backend, server = row["be_name"], row["srv_name"]
        off = int(row["srv_admin_state"]) & _ADMIN_OFF
        if backend in enabled and server in ("blue", "green") and not off:
            enabled[backend].append(Colour(server))
    return {
        lsn: (found[0] if len(found) == 1 else None)
        for lsn, found in ((lsn, enabled[lsn.value]) for lsn in Listener)
    }
