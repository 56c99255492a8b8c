"""Dependencies on the real engine and router: capacity beside a live colour, TLS on live.

One service, set up once: a demo CA, a certificate for its domain, the router terminating
TLS on the live listener. It proves the engine's capacity reading (pass, and a fail when the
headroom asks for more memory than the machine has), third parties asked from inside the
release's network (one answering, one refused, one unresolvable), the seed's static asset
through the preview (and a missing one), that probes trust that CA alone and check the
name, and that a switch, a certificate renewal through the runtime API and a rollback under
keep-alive TLS load fail no request.
"""

from __future__ import annotations

import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
from cryptography import x509

from handoff.acceptance.sidecar import CapacitySettings
from handoff.bluegreen import BlueGreenEngine, ChangeOutcome, Colour, probe
from handoff.bluegreen.config import LiveTls
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.catalog import load_handoff
from handoff.checks.dependencies import MB, judge_asset, judge_capacity, judge_third_party
from handoff.checks.http import exchange
from handoff.demo_ca import Issued, make_ca, make_server, write_material
from handoff.target import ThirdPartyCall
from tests.conftest import SEED
from tests.integration.bluegreen.conftest import V1, V2, ConfigFactory

pytestmark = pytest.mark.integration

DOMAIN = "ux-portal.demo.test"


def _served_serial(engine: BlueGreenEngine, context: ssl.SSLContext) -> int:
    """Return the serial of the certificate a new TLS handshake with live gets."""
    with (
        socket.create_connection((engine.config.router_host, engine.config.live_port), 5) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _issue(ca: Issued, days: int = 90) -> Issued:
    now = datetime.now(UTC)
    return make_server(ca, [DOMAIN], now - timedelta(hours=1), now + timedelta(days=days))


def test_capacity_and_tls_on_live_with_a_renewal_under_keep_alive_load(
    make_config: ConfigFactory, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    ca = make_ca()
    first = _issue(ca)
    paths = write_material(tmp_path / "tls", ca, first)
    live_tls = LiveTls(DOMAIN, str(paths["cert"]), str(paths["key"]), str(paths["ca"]))
    engine = BlueGreenEngine(make_config(live_tls=live_tls), client=docker_client)
    engine.deploy(V1)
    engine.switch(V1)  # verified through live over TLS, trusting the demo CA only

    # Capacity beside the live colour, as preflight measures it.
    capacity = DockerHaproxyTarget(engine).capacity()
    assert capacity.live_limit == 512 * MB and 0 < capacity.live_usage < capacity.live_limit
    assert 0 < capacity.available_memory <= capacity.total_memory and capacity.free_disk > 0
    assert not judge_capacity(capacity, CapacitySettings()).failed
    demanding = CapacitySettings(memory_headroom_mb=capacity.total_memory // MB + 1)
    too_little = judge_capacity(capacity, demanding)
    assert too_little.failed and "needed" in too_little.summary

    # Third parties from inside the release's network: a container of the release image on
    # the service network reaches blue by its name (nothing outside that network can), and
    # one refused port and one name nothing resolves are told apart.
    blue = f"{engine.config.service}-blue"
    calls = [
        ThirdPartyCall("inventory", f"http://{blue}:8000/health", 5.0),
        ThirdPartyCall("refused", f"http://{blue}:9/", 2.0),
        ThirdPartyCall("nowhere", "http://absent.invalid/", 2.0),
    ]
    started = time.monotonic()
    network, answers = DockerHaproxyTarget(engine).call_third_parties(V1, calls)
    third_party_s = time.monotonic() - started
    assert network == engine.config.network_name
    inventory, refused, nowhere = answers
    assert not judge_third_party(inventory, (200,), network, 5.0).failed, inventory
    assert 0 < inventory.seconds < 5.0
    assert refused.status == 0 and "ConnectionRefused" in refused.error, refused
    assert judge_third_party(refused, (200,), network, 2.0).failed
    assert nowhere.status == 0 and "gaierror" in nowhere.error, nowhere
    probes = docker_client.containers.list(all=True, filters={"name": "third-party-probe"})
    assert probes == []  # always removed

    # Probes trust the demo CA explicitly and check the name; never without verification.
    config = engine.config
    trusted = (DOMAIN, probe.trusting(live_tls.ca_file))
    answer = probe.get(config.router_host, config.live_port, "/health", 5.0, trusted)
    assert answer.status == 200 and answer.server == "blue", answer
    wrong_name = ("other.demo.test", probe.trusting(live_tls.ca_file))
    mismatch = probe.get(config.router_host, config.live_port, "/health", 5.0, wrong_name)
    assert mismatch.status == 0 and "match" in (mismatch.error or ""), mismatch
    system_store = (DOMAIN, ssl.create_default_context())
    untrusted = probe.get(config.router_host, config.live_port, "/health", 5.0, system_store)
    assert untrusted.status == 0 and "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
    assert _served_serial(engine, trusted[1]) == first.cert.serial_number

    # Switch, renewal and rollback under keep-alive TLS load: no request may fail.
    engine.deploy(V2)
    # The seed's static asset through the preview (the release before any user sees it):
    # 200, cacheable, the bytes the sidecar pins; a path the release lacks fails.
    seed = load_handoff(SEED).acceptance
    assert seed is not None
    (asset,) = seed.checks.dependencies.static_assets
    served = exchange(config.router_host, config.preview_port, asset.path)
    found = judge_asset(asset, served)
    assert not found.failed and found.measured["cache_control"] == "public, max-age=3600", found
    absent = asset.model_copy(update={"path": "/static/absent.css"})
    missing = judge_asset(absent, exchange(config.router_host, config.preview_port, absent.path))
    assert missing.failed and "HTTP 404" in missing.summary
    renewed = _issue(ca, days=180)
    spec = LoadSpec(
        host=config.router_host,
        port=config.live_port,
        connections=8,
        duration_s=30.0,  # a bound: the load is stopped when the three changes are done
        write_every=0,
        tls=trusted,
    )
    with LoadGenerator(spec) as load:
        time.sleep(0.8)
        assert engine.switch(V2).outcome is ChangeOutcome.CHANGED
        time.sleep(0.5)
        started = time.monotonic()
        answer_text = engine.router.renew_certificate(renewed.cert_pem + renewed.key_pem)
        renew_s = time.monotonic() - started
        time.sleep(0.5)
        assert engine.rollback().to_colour is Colour.BLUE
        time.sleep(0.8)
    report = load.report
    assert report is not None and report.requests > 300, report
    assert not report.failures, report.describe_failures()
    assert "Success" in answer_text
    assert _served_serial(engine, trusted[1]) == renewed.cert.serial_number
    # A restarted router serves the renewed certificate: the file was replaced too.
    engine.router.restart()
    assert _served_serial(engine, trusted[1]) == renewed.cert.serial_number
    print(
        f"\nTLS keep-alive load: {report.requests} requests, 0 failed, over a switch, a "
        f"certificate renewal ({renew_s * 1000:.0f} ms through the runtime API) and a rollback"
        f"; third parties from {network}: inventory {inventory.seconds * 1000:.0f} ms, probe "
        f"container {third_party_s:.1f} s"
    )
