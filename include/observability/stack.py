#!/usr/bin/env python3
"""`make observability`: start Prometheus, Alertmanager and the exporters when they are missing.

    python include/observability/stack.py up       # start what is missing, then sync
    python include/observability/stack.py sync     # watch every running router (targets)
    python include/observability/stack.py status   # what runs, where
    python include/observability/stack.py down     # remove the containers (volumes stay)

Each component is a container on the network ``handoff-observability`` built from the
images include/demo/scripts/build-images.sh makes (Debian's packages). A container whose
image and settings match (label ``handoff.observability.spec``) is kept, a stopped one is
started, a different one is replaced; data lives on named volumes, which `down` keeps.
Ports are published on the loopback only. Every container drops every capability, has
no-new-privileges, a read-only root filesystem, and memory and process limits.

Sync: the routers of the blue-green engine (label ``handoff.role=router``) are connected to
the observability network, and each service's targets files (handoff.analysis.scrape_targets,
in a host folder mounted read-only) list them; Prometheus scrapes HAProxy's exporter and the
colours' /metrics through each router's metrics listener, so a switch or a rollback needs no
new sync. A deploy in an environment with an ``observability`` section registers its own
service the same way; sync serves routers started before the stack. Prometheus never gets
the Docker socket: the engine's side connects and writes, Prometheus reads files.

Settings (environment): HANDOFF_OBS_BIND (127.0.0.1), HANDOFF_PROMETHEUS_PORT (19090),
HANDOFF_ALERTMANAGER_PORT (19093), HANDOFF_BLACKBOX_PORT (19115),
HANDOFF_NODE_EXPORTER_PORT (19100), HANDOFF_SCRAPE_INTERVAL (5 seconds),
HANDOFF_ALERT_WEBHOOK_FILE (the Slack webhook URL's file; default
~/.config/handoff/alertmanager-slack-webhook; it must not be readable by group or others),
HANDOFF_ALERT_WEBHOOK_CONN (else: the webhook URL of this Airflow connection, e.g.
slack_default, resolved as the Slack provider does), HANDOFF_PROMETHEUS_RULES_DIR (the host
folder of the handoffs' rule files, mounted read-only into Prometheus; default
$XDG_STATE_HOME/handoff/prometheus-rules, else ~/.local/state/handoff/prometheus-rules),
HANDOFF_PROMETHEUS_TARGETS_DIR (the host folder of the services' targets files, likewise;
default .../handoff/prometheus-targets).

Rules: handoff.analysis.rule_loader writes one file per handoff into the rules folder and asks
Prometheus to reload (``--web.enable-lifecycle``: POST /-/reload, on the loopback-published
port only). Alertmanager reaches a receiver on this machine as ``host.docker.internal``,
which names the observability network's gateway: a receiver bound to that address (never
0.0.0.0) is reachable from the stack and from no other machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import logging
import os
import stat
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2] / "plugins"))  # run as a script
import promconfig  # a sibling module: this file also runs as a script

from handoff.analysis import scrape_targets
from handoff.bluegreen.target import router_scrape_points

log = logging.getLogger("handoff.observability")

NETWORK = "handoff-observability"
LABEL_ROLE = "handoff.role"
LABEL_SERVICE = "handoff.service"
LABEL_COMPONENT = "handoff.observability.component"
LABEL_SPEC = "handoff.observability.spec"
ROLE = "observability"
#: Where the Slack receiver posts when no webhook file is configured: nothing listens there.
NO_WEBHOOK = "http://127.0.0.1:9/no-slack-webhook-configured"
READY_DEADLINE_S = 60.0
DEFAULT_WEBHOOK_FILE = Path("~/.config/handoff/alertmanager-slack-webhook").expanduser()
#: The name Alertmanager knows this machine by (the observability network's gateway).
HOST_ALIAS = "host.docker.internal"


def default_rules_dir() -> Path:
    """Return the host folder of the rule files (as handoff.analysis.rule_loader does)."""
    state = os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    return Path(state).expanduser() / "handoff" / "prometheus-rules"


#: Routers of test sessions are watched only when a test asks (sync with their service).
TEST_ORIGIN = "pytest:"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the stack publishes its ports and how often Prometheus scrapes."""

    bind: str = "127.0.0.1"
    prometheus_port: int = 19090
    alertmanager_port: int = 19093
    blackbox_port: int = 19115
    node_exporter_port: int = 19100
    scrape_interval_s: int = 5
    webhook_file: Path = DEFAULT_WEBHOOK_FILE
    webhook_conn: str = ""
    rules_dir: Path = dataclasses.field(default_factory=default_rules_dir)
    targets_dir: Path = dataclasses.field(default_factory=scrape_targets.default_targets_dir)

    @classmethod
    def from_env(cls) -> Settings:
        """Return the settings the environment overrides."""
        env = os.environ
        default = cls()
        return cls(
            bind=env.get("HANDOFF_OBS_BIND", default.bind),
            prometheus_port=int(env.get("HANDOFF_PROMETHEUS_PORT", default.prometheus_port)),
            alertmanager_port=int(env.get("HANDOFF_ALERTMANAGER_PORT", default.alertmanager_port)),
            blackbox_port=int(env.get("HANDOFF_BLACKBOX_PORT", default.blackbox_port)),
            node_exporter_port=int(
                env.get("HANDOFF_NODE_EXPORTER_PORT", default.node_exporter_port)
            ),
            scrape_interval_s=int(env.get("HANDOFF_SCRAPE_INTERVAL", default.scrape_interval_s)),
            webhook_file=Path(env.get("HANDOFF_ALERT_WEBHOOK_FILE", str(default.webhook_file))),
            webhook_conn=env.get("HANDOFF_ALERT_WEBHOOK_CONN", ""),
            rules_dir=Path(env.get("HANDOFF_PROMETHEUS_RULES_DIR") or default.rules_dir),
            targets_dir=scrape_targets.default_targets_dir(),
        )

    def url(self, port: int) -> str:
        """Return the address of a published port on this machine."""
        return f"http://{self.bind}:{port}"


@dataclasses.dataclass(frozen=True)
class Component:
    """One container of the stack: image, port, volumes, limits, arguments."""

    name: str
    image: str
    port: int
    host_port: int
    memory_mb: int
    volumes: dict[str, str]
    command: tuple[str, ...] = ()
    #: Host folders mounted read-only (host path -> container path).
    binds: dict[str, str] = dataclasses.field(default_factory=dict)
    extra_hosts: dict[str, str] = dataclasses.field(default_factory=dict)

    def spec(self, image_id: str, bind: str) -> str:
        """Return the hash of everything the container is made from."""
        text = json.dumps([dataclasses.asdict(self), image_id, bind], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Prometheus' arguments: the image's, plus the lifecycle API the rule loader reloads with.
PROMETHEUS_COMMAND = (
    f"--config.file={promconfig.PROMETHEUS_DIR}/prometheus.yml",
    "--storage.tsdb.path=/var/lib/prometheus/metrics2",
    "--web.listen-address=:9090",
    "--web.console.templates=/usr/share/prometheus/consoles",
    "--web.console.libraries=/usr/share/prometheus/console_libraries",
    "--web.enable-lifecycle",
)


def components(settings: Settings, gateway: str = "host-gateway") -> list[Component]:
    """Return the stack's containers, Alertmanager before Prometheus (which sends to it).

    ``gateway`` is the address ``host.docker.internal`` names in Alertmanager (the
    observability network's gateway once the network exists).
    """
    return [
        Component(
            promconfig.ALERTMANAGER,
            "handoff-alertmanager:latest",
            9093,
            settings.alertmanager_port,
            128,
            {
                "handoff-alertmanager-config": promconfig.ALERTMANAGER_DIR,
                "handoff-alertmanager-data": "/var/lib/prometheus/alertmanager",
            },
            extra_hosts={HOST_ALIAS: gateway},
        ),
        Component(
            promconfig.BLACKBOX, "handoff-blackbox:latest", 9115, settings.blackbox_port, 64, {}
        ),
        Component(
            promconfig.NODE_EXPORTER,
            "handoff-node-exporter:latest",
            9100,
            settings.node_exporter_port,
            64,
            {},
        ),
        Component(
            promconfig.PROMETHEUS,
            "handoff-prometheus:latest",
            9090,
            settings.prometheus_port,
            512,
            {
                "handoff-prometheus-config": promconfig.PROMETHEUS_DIR,
                "handoff-prometheus-data": "/var/lib/prometheus/metrics2",
            },
            command=PROMETHEUS_COMMAND,
            binds={
                str(settings.rules_dir): promconfig.RULES_DIR,
                str(settings.targets_dir): promconfig.TARGETS_DIR,
            },
        ),
    ]


class Stack:
    """The observability containers on one Docker engine."""

    def __init__(self, settings: Settings, client: docker.DockerClient | None = None) -> None:
        self.settings = settings
        self.client = client or docker.from_env()

    # -- containers ------------------------------------------------------------------

    def up(self) -> dict[str, str]:
        """Start every component that is missing or stale; return what each one did."""
        gateway = self._ensure_network()
        ensure_readable_dir(self.settings.rules_dir)
        ensure_readable_dir(self.settings.targets_dir)
        done = {}
        for component in components(self.settings, gateway):
            done[component.name] = self._ensure(component)
        self.wait_ready()
        return done

    def _ensure_network(self) -> str:
        """Create the network when it is missing; return its gateway address."""
        if not self.client.networks.list(names=[NETWORK]):
            log.info("creating network %s", NETWORK)
            self.client.networks.create(NETWORK, driver="bridge", labels={LABEL_ROLE: ROLE})
        return self.gateway()

    def gateway(self) -> str:
        """Return the observability network's gateway: this machine, seen from the stack."""
        network = self.client.networks.get(NETWORK)
        for pool in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if pool.get("Gateway"):
                return str(pool["Gateway"])
        raise SystemExit(f"observability: network {NETWORK} has no gateway address")

    def _ensure(self, component: Component) -> str:
        try:
            image_id = str(self.client.images.get(component.image).id)
        except docker.errors.ImageNotFound as exc:
            raise SystemExit(
                f"observability: image {component.image} is missing; build it with "
                "`make demo-images` (include/demo/scripts/build-images.sh)"
            ) from exc
        spec = component.spec(image_id, self.settings.bind)
        container = self._get(component.name)
        if container is not None and container.labels.get(LABEL_SPEC) != spec:
            log.info("replacing %s: its image or settings changed", component.name)
            container.remove(force=True)
            container = None
        outcome = "kept"
        if container is None:
            container = self._create(component, spec)
            outcome = "created"
        self._write_config(component, container)
        container.reload()
        if container.status != "running":
            container.start()
            outcome = "started" if outcome == "kept" else outcome
        return outcome

    def _create(self, component: Component, spec: str) -> Container:
        log.info("creating %s from %s", component.name, component.image)
        memory = f"{component.memory_mb}m"
        return self.client.containers.create(
            component.image,
            list(component.command) or None,
            name=component.name,
            detach=True,
            network=NETWORK,
            ports={f"{component.port}/tcp": (self.settings.bind, component.host_port)},
            volumes={vol: {"bind": path, "mode": "rw"} for vol, path in component.volumes.items()}
            | {host: {"bind": path, "mode": "ro"} for host, path in component.binds.items()},
            extra_hosts=component.extra_hosts or None,
            labels={LABEL_ROLE: ROLE, LABEL_COMPONENT: component.name, LABEL_SPEC: spec},
            restart_policy={"Name": "unless-stopped"},
            read_only=True,
            tmpfs={"/tmp": "rw,noexec,nosuid,size=16m"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            mem_limit=memory,
            memswap_limit=memory,
            pids_limit=256,
        )

    def _get(self, name: str) -> Container | None:
        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            return None

    def _write_config(self, component: Component, container: Container) -> None:
        if component.name == promconfig.PROMETHEUS:
            files = {"prometheus.yml": promconfig.prometheus_yml(self.settings.scrape_interval_s)}
            changed = put_files(container, promconfig.PROMETHEUS_DIR, files, 0o644)
            if changed and container.status == "running":
                container.kill(signal="SIGHUP")  # Prometheus reloads its configuration
        elif component.name == promconfig.ALERTMANAGER:
            files = {"alertmanager.yml": promconfig.alertmanager_yml()}
            changed = put_files(container, promconfig.ALERTMANAGER_DIR, files, 0o644)
            url = self._webhook_url(container)
            if url is not None:
                changed |= self.write_webhook_url(container, url)
            if changed and container.status == "running":
                container.kill(signal="SIGHUP")

    @staticmethod
    def write_webhook_url(container: Container, url: str) -> bool:
        """Write the Slack webhook URL into Alertmanager's volume; True if it changed.

        Mode 0400, owned by Alertmanager's user, in a folder (0700) only it can enter; the
        URL is never logged.
        """
        secret = {Path(promconfig.WEBHOOK_FILE).name: url}
        return put_files(container, promconfig.ALERTMANAGER_DIR, secret, 0o400)

    def _webhook_url(self, container: Container | None = None) -> str | None:
        """Return the Slack webhook URL to write; None keeps the one already written.

        From the webhook file (a 0600 source) when it exists, else from the Airflow
        connection named by HANDOFF_ALERT_WEBHOOK_CONN; with neither, a URL already in the
        volume stays, and a volume without one gets a URL nobody listens on.
        """
        path = self.settings.webhook_file
        if not path.exists():
            if self.settings.webhook_conn:
                return webhook_url_of_connection(self.settings.webhook_conn)
            name = Path(promconfig.WEBHOOK_FILE).name
            if container is not None and read_files(container, promconfig.ALERTMANAGER_DIR, [name]):
                return None
            log.warning(
                "no Slack webhook file at %s (HANDOFF_ALERT_WEBHOOK_FILE) nor connection "
                "(HANDOFF_ALERT_WEBHOOK_CONN): alerts go to a receiver nobody listens on "
                "until one is configured",
                path,
            )
            return NO_WEBHOOK
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SystemExit(
                f"observability: {path} is readable by others (mode {stat.filemode(mode)}); "
                f"it holds the Slack webhook secret: chmod 600 {path}"
            )
        return checked_url(path.read_text().strip(), str(path))

    def wait_ready(self) -> None:
        """Wait until Prometheus and Alertmanager answer their readiness endpoints."""
        s = self.settings
        deadline = time.monotonic() + READY_DEADLINE_S
        for port in (s.prometheus_port, s.alertmanager_port):
            url = f"{s.url(port)}/-/ready"
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"observability: {url} not ready in {READY_DEADLINE_S:g}s")
                time.sleep(0.2)

    def down(self) -> list[str]:
        """Remove the stack's containers (their volumes and the network stay)."""
        removed = []
        for container in self.client.containers.list(
            all=True, filters={"label": f"{LABEL_ROLE}={ROLE}"}
        ):
            container.remove(force=True)
            removed.append(str(container.name))
        return removed

    # -- targets ---------------------------------------------------------------------

    def sync(self, services: set[str] | None = None) -> list[str]:
        """Connect running routers to the network and write their targets; return the services.

        ``services`` limits which new routers are connected (None: every running router but
        a test session's); routers connected before stay listed while they run. Targets
        files of services whose router is gone are removed. A deploy registers its own
        service the same way (handoff.tasks.scrape_registration), so sync is needed only for
        routers started before the stack.
        """
        network = self.client.networks.get(NETWORK)
        watched = []
        folder = self.settings.targets_dir
        ensure_readable_dir(folder)
        for router in self._routers():
            service = router.labels.get(LABEL_SERVICE, "")
            attached = NETWORK in (router.attrs["NetworkSettings"]["Networks"] or {})
            if not attached:
                from_test = router.labels.get("handoff.origin", "").startswith(TEST_ORIGIN)
                if (service not in services) if services is not None else from_test:
                    continue
                log.info("connecting router %s to %s", router.name, NETWORK)
                network.connect(router)
            try:
                files = scrape_targets.render(
                    service, router_scrape_points(str(router.name), "/health")
                )
            except ValueError as exc:
                log.warning("not watching router %s: %s", router.name, exc)
                continue
            scrape_targets.write(folder, files)
            watched.append(service)
        scrape_targets.remove(folder, scrape_targets.services_in(folder) - set(watched))
        return watched

    def _routers(self) -> Iterator[Container]:
        found = self.client.containers.list(filters={"label": f"{LABEL_ROLE}=router"})
        yield from sorted(found, key=lambda c: str(c.name))

    def status(self) -> list[dict[str, Any]]:
        """Return each component's container state and published address."""
        rows = []
        for component in components(self.settings):
            container = self._get(component.name)
            rows.append(
                {
                    "name": component.name,
                    "state": container.status if container else "missing",
                    "address": f"http://{self.settings.bind}:{component.host_port}",
                }
            )
        return rows


def checked_url(url: str, source: str) -> str:
    """Return a webhook URL, or stop naming its source (never the URL: it is a secret)."""
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise SystemExit(f"observability: {source} does not hold one http(s) URL")
    return url


def webhook_url_of_connection(conn_id: str) -> str:
    """Return the webhook URL of an Airflow Slack webhook connection (as the provider reads it).

    The password is the URL when it holds a scheme, else the host (with its scheme) joined
    with the password; Airflow finds the connection in its secrets backends (AIRFLOW_CONN_*
    variables, the metadata database).
    """
    try:
        from airflow.models.connection import Connection
    except ImportError as exc:
        raise SystemExit(
            f"observability: HANDOFF_ALERT_WEBHOOK_CONN={conn_id} needs Airflow installed"
        ) from exc
    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except Exception as exc:  # Airflow raises its own not-found error class
        raise SystemExit(f"observability: Airflow connection {conn_id!r}: {exc}") from None
    password = conn.password or ""
    if "://" in password:
        url = password
    else:
        host = (conn.host or "").rstrip("/")
        url = f"{host}/{password.lstrip('/')}" if password else host
    return checked_url(url, f"Airflow connection {conn_id!r}")


def ensure_readable_dir(folder: Path) -> None:
    """Create a folder Prometheus reads (0755: its user reads it; it holds no secret)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)


def put_files(container: Container, folder: str, files: dict[str, str], mode: int) -> bool:
    """Write files into a container's folder as its image's user; True if any changed.

    The folder is on a volume the image owns; the files get the folder's owner, so the
    component reads them under its own non-root user.
    """
    current = read_files(container, folder, list(files))
    if all(current.get(name) == text for name, text in files.items()):
        return False
    owner = folder_owner(container, folder)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for sub in sorted({str(Path(name).parent) for name in files} - {"."}):
            entry = tarfile.TarInfo(sub)
            entry.type, entry.mode, entry.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
            entry.uid, entry.gid = owner
            tar.addfile(entry)
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            info.uid, info.gid = owner
            tar.addfile(info, io.BytesIO(data))
    if not container.put_archive(folder, buffer.getvalue()):
        raise SystemExit(f"observability: could not write {folder} in {container.name}")
    return True


def read_files(container: Container, folder: str, names: list[str]) -> dict[str, str]:
    """Return the files of a container's folder that exist (name -> text)."""
    found = {}
    for name in names:
        try:
            chunks, _ = container.get_archive(f"{folder}/{name}")
        except docker.errors.NotFound:
            continue
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            member = tar.extractfile(Path(name).name)
            if member is not None:
                found[name] = member.read().decode()
    return found


def folder_owner(container: Container, folder: str) -> tuple[int, int]:
    """Return the uid and gid owning a folder in a container (from its archive header)."""
    chunks, _ = container.get_archive(folder)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r|") as tar:
        first = tar.next()
        if first is None:
            raise SystemExit(f"observability: {folder} is missing in {container.name}")
        return first.uid, first.gid


def main(argv: list[str] | None = None) -> int:
    """Run one of the commands; print what was done."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "sync", "status", "down"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="observability: %(message)s")
    settings = Settings.from_env()
    stack = Stack(settings)
    started = time.monotonic()
    if args.command == "up":
        for name, outcome in stack.up().items():
            print(f"observability: {name} {outcome}")
        watched = stack.sync()
        print(
            f"observability: watching {len(watched)} router(s): "
            + (", ".join(watched) or "none yet")
        )
        print(
            f"observability: Prometheus {settings.url(settings.prometheus_port)}, Alertmanager "
            f"{settings.url(settings.alertmanager_port)} (ready in "
            f"{time.monotonic() - started:.1f}s)"
        )
    elif args.command == "sync":
        watched = stack.sync()
        print(f"observability: watching {', '.join(watched) or 'no router'}")
    elif args.command == "status":
        for row in stack.status():
            print(f"{row['name']:24} {row['state']:10} {row['address']}")
    else:
        print(f"observability: removed {', '.join(stack.down()) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
