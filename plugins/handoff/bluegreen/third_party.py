"""Third-party services asked from inside the release's network, before anything deploys.

One short-lived container of the release's own image, on the service network (where the
colours run, so its DNS, routes and egress rules are the release's), GETs each URL once and
prints one JSON line per service: status, latency, or why nothing answered. The argv is
fixed (`python3 -c` and the program below); the URLs and timeouts travel as one JSON argument,
never through a shell. Redirects are not followed (a 301 is the service's answer) and HTTPS
is verified against the image's own trust store, as the release's calls would be. On a first
deployment the service network does not exist yet: the engine's default bridge is used and
the finding says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import docker
import docker.errors

from handoff.bluegreen import short_lived
from handoff.bluegreen.config import BlueGreenConfig
from handoff.bluegreen.errors import BlueGreenError
from handoff.target.models import ThirdPartyAnswer, ThirdPartyCall

ROLE = "third-party-probe"
DEFAULT_NETWORK = "bridge"
_START_ALLOWANCE_S = 15.0
# The program the container runs; its one argument is [{"name", "url", "timeout"}, ...].
PROGRAM = """\
import http.client, json, ssl, sys, time, urllib.parse
for call in json.loads(sys.argv[1]):
    url = urllib.parse.urlsplit(call["url"])
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    extra = {"context": ssl.create_default_context()} if url.scheme == "https" else {}
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    started = time.monotonic()
    found = {"name": call["name"], "status": 0, "error": ""}
    try:
        conn = kind(url.hostname, url.port, timeout=call["timeout"], **extra)
        conn.request("GET", path, headers={"Connection": "close", "User-Agent": "handoff"})
        found["status"] = conn.getresponse().status
        conn.close()
    except Exception as e:
        found["error"] = (type(e).__name__ + ": " + str(e))[:200]
    found["seconds"] = time.monotonic() - started
    print(json.dumps(found), flush=True)
"""


def network_for(client: docker.DockerClient, config: BlueGreenConfig) -> str:
    """Return the service network when it exists (it does once anything was deployed)."""
    exists = client.networks.list(names=[config.network_name])
    return config.network_name if exists else DEFAULT_NETWORK


def parse_answers(output: str, calls: Sequence[ThirdPartyCall]) -> list[ThirdPartyAnswer]:
    """Return an answer per call from the program's JSON lines (a missing line is an error)."""
    found: dict[str, dict[str, object]] = {}
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                found[str(row.get("name"))] = row
    answers = []
    for call in calls:
        row = found.get(call.name)
        if row is None:
            answers.append(
                ThirdPartyAnswer(call.name, call.url, 0, 0.0, "the probe printed nothing")
            )
            continue
        status, seconds = row.get("status"), row.get("seconds")
        answers.append(
            ThirdPartyAnswer(
                call.name,
                call.url,
                status if isinstance(status, int) else 0,
                float(seconds) if isinstance(seconds, int | float) else 0.0,
                str(row.get("error") or ""),
            )
        )
    return answers


def call(
    client: docker.DockerClient,
    config: BlueGreenConfig,
    release: str,
    calls: Sequence[ThirdPartyCall],
) -> tuple[str, list[ThirdPartyAnswer]]:
    """GET each call's URL from a container of ``release``; return the network and answers."""
    network = network_for(client, config)
    argument = json.dumps([{"name": c.name, "url": c.url, "timeout": c.timeout_s} for c in calls])
    wait_s = sum(c.timeout_s for c in calls) + _START_ALLOWANCE_S
    try:
        output = short_lived.run_printing(
            client, config, ROLE, ["python3", "-c", PROGRAM, argument], wait_s, network,
            image=release,
        )  # fmt: skip
    except BlueGreenError as e:
        raise BlueGreenError(f"third-party probe in {release} on {network}: {e}") from e
    except docker.errors.APIError as e:
        # E.g. "exec: python3: not found": the probe runs in the release's own image.
        raise BlueGreenError(
            f"third-party probe in {release} on {network} could not start: "
            f"{e.explanation or e}; the probe needs python3 in the release image"
        ) from e
    return network, parse_answers(output, calls)
