"""The compose stack's Docker API proxy on the real engine: the engine works, the host is shut.

The proxy image (include/compose/socket-proxy) runs as the stack runs it (no network, no
capability, the engine's socket read-only) with its socket in a folder of the test's own.
Through it, the blue-green engine deploys, switches, measures its capacity for a second colour
(preflight), connects its router to an observability network (to be scraped), runs an
integrity command beside a colour and tears down, exactly as the Celery workers do; then
calls that would hand out the host are sent, by the Docker SDK and as raw requests, and each
must get 403 from the proxy.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, Colour, VolumeMount
from handoff.bluegreen.oneoff import run_beside
from handoff.bluegreen.target import DockerHaproxyTarget
from tests.support.demo import ROOT, V1, ensure_demo_images, free_port

pytestmark = pytest.mark.integration

IMAGE = "handoff-socket-proxy:latest"
BASE = "handoff-base:bookworm"
# "Privileged" with a JSON escape: Docker's decoder reads it as the key, a plain regex would not.
ESCAPED = '{"Image": "x", "HostConfig": {"Privil\\u0065ged": true}}'


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection over a unix socket, for requests the SDK would never send."""

    def __init__(self, path: str) -> None:
        super().__init__("docker", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


@pytest.fixture(scope="module")
def proxy_socket() -> Iterator[str]:
    """Start the proxy as docker-compose.yaml does; yield the path of its socket."""
    ensure_demo_images()
    subprocess.run([str(ROOT / "include/compose/build-images.sh")], check=True, timeout=1800)
    folder = Path(tempfile.mkdtemp(prefix="handoff-proxy-"))
    name = f"it-proxy-{uuid.uuid4().hex[:6]}"
    subprocess.run(
        ["docker", "run", "--detach", "--name", name, "--network", "none",
         "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--read-only",
         "--volume", "/var/run/docker.sock:/var/run/docker.sock:ro",
         "--volume", f"{folder}:/run/docker-proxy", IMAGE],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    path = folder / "docker.sock"
    deadline = time.monotonic() + 20
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield str(path)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", str(folder)], timeout=60)


@pytest.fixture
def client(proxy_socket: str) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=f"unix://{proxy_socket}", version="auto")
    yield client
    client.close()


def raw(proxy_socket: str, method: str, path: str, body: object = None) -> tuple[int, str]:
    conn = UnixHTTPConnection(proxy_socket)
    data = body if isinstance(body, str) or body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if data is not None else {}
    conn.request(method, path, body=data, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read().decode("utf-8", "replace")


def test_the_engine_deploys_switches_checks_and_tears_down_through_the_proxy(
    client: docker.DockerClient,
) -> None:
    service = f"it-{uuid.uuid4().hex[:8]}"
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{service}-data", "/data"),),
        ready_deadline_s=30.0,
    )
    engine = BlueGreenEngine(config, client=client)
    target = DockerHaproxyTarget(engine)
    observability = client.networks.create(f"{service}-observability", driver="bridge")
    try:
        engine.deploy(V1)
        engine.switch(V1)  # exec into the router (runtime API) goes through as well
        status = engine.status()
        assert status.live is not None and status.live.release == V1
        # Preflight's capacity check: version, the probe container, the live colour's stats.
        capacity = target.capacity()
        assert capacity.engine_version and capacity.live_usage > 0
        assert 0 < capacity.available_memory <= capacity.total_memory
        # The deploy's registration with Prometheus: the router joins the network.
        points = target.expose_metrics(observability.name, "/health")
        assert points.health_urls
        router = client.containers.get(config.router_name)
        assert observability.name in router.attrs["NetworkSettings"]["Networks"]
        engine.router.restart()  # what the router drills and a recovery do
        engine.router.wait_for_socket()
        colour = client.containers.get(config.container_name(Colour.BLUE))
        run = run_beside(client, colour, ["/opt/demo/integrity_check.py"], timeout_s=30)
        assert run.exit_code == 0, run.output
    finally:
        engine.teardown(remove_data=True, force=True)
        observability.remove()
    assert not client.containers.list(all=True, filters={"name": service})


@pytest.mark.parametrize(
    "spec",
    [
        {"privileged": True},
        {"volumes": {"/": {"bind": "/host", "mode": "rw"}}},
        {"volumes": {"/var/run/docker.sock": {"bind": "/s", "mode": "rw"}}},
        {"cap_add": ["SYS_ADMIN"]},
        {"network_mode": "host"},
        {"pid_mode": "host"},
        {"security_opt": ["seccomp=unconfined"]},
        {"devices": ["/dev/sda:/dev/sda"]},
        {"volumes": {"handoff_airflow-auth": {"bind": "/auth", "mode": "ro"}}},
        {
            "mounts": [
                docker.types.Mount(
                    "/host", "sneaky", driver_config=docker.types.DriverConfig(
                        "local", {"type": "none", "o": "bind", "device": "/"}
                    )
                )
            ]
        },
    ],
    ids=["privileged", "bind-root", "bind-socket", "cap-add", "host-net", "host-pid",
         "unconfined", "device", "stack-volume", "driver-bind"],
)  # fmt: skip
def test_a_container_that_reaches_the_host_is_refused(
    client: docker.DockerClient, spec: dict[str, object]
) -> None:
    name = f"it-refused-{uuid.uuid4().hex[:6]}"
    with pytest.raises(docker.errors.APIError, match="socket proxy") as refused:
        client.containers.create(BASE, ["true"], name=name, **spec)  # type: ignore[arg-type]
    assert refused.value.status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1.41/secrets", None),
        ("GET", "/info", None),
        ("POST", "/v1.41/images/create?fromImage=alpine", None),
        ("POST", "/v1.41/build", None),
        ("GET", "/v1.41/containers/../secrets", None),
        ("GET", "/v1.41/containers/%2e%2e/secrets", None),
        ("PUT", "/v1.41/containers/x/archive?path=/", None),
        ("POST", "/v1.41/containers/x/commit", None),
        ("POST", "/v1.41/volumes/create", {"Name": "x"}),
        ("POST", "/v1.41/containers/create", {"Image": BASE, "HostConfig": {"pRiViLeGeD": True}}),
        ("POST", "/v1.41/containers/create", ESCAPED),
        ("POST", "/v1.41/containers/x/exec", {"Cmd": ["sh"], "Privileged": True}),
        ("POST", "/v1.41/containers/x/exec", {"Cmd": ["sh"], "User": "root"}),
        ("POST", "/v1.41/networks/create", {"Name": "x", "Driver": "macvlan"}),
    ],
    ids=["secrets", "info", "pull", "build", "dotdot", "encoded-dotdot", "archive", "commit",
         "volume-create", "case-privileged", "escaped-privileged", "privileged-exec", "root-exec",
         "macvlan"],
)  # fmt: skip
def test_calls_the_engine_never_makes_are_refused(
    proxy_socket: str, method: str, path: str, body: object
) -> None:
    status, text = raw(proxy_socket, method, path, body)
    assert status == 403 and "socket proxy" in text, (status, text)


def test_a_body_it_cannot_read_whole_is_refused(proxy_socket: str) -> None:
    padding = "x" * 40000
    status, text = raw(
        proxy_socket,
        "POST",
        "/v1.41/containers/create",
        {"Image": BASE, "Labels": {"pad": padding}, "HostConfig": {"Privileged": True}},
    )
    assert status == 403 and "unreadable body" in text, (status, text)


def test_reads_the_engine_makes_pass(proxy_socket: str) -> None:
    for path in ("/_ping", "/version", "/v1.41/containers/json?all=1", "/v1.41/networks"):
        status, text = raw(proxy_socket, "GET", path)
        assert status == 200, (path, status, text)
    status, _ = raw(proxy_socket, "GET", f"/v1.41/images/{BASE}/json")
    assert status == 200
