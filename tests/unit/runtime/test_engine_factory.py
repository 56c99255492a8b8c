"""The engine's settings from a handoff: live TLS only when sidecar and environment agree."""

from __future__ import annotations

from pathlib import Path

from handoff.acceptance.environment import RouterTls
from handoff.acceptance.sidecar import TlsSettings
from handoff.catalog import load_handoff
from handoff.runtime.engine_factory import engine_config, live_tls
from tests.conftest import SEED


def test_live_tls_needs_the_sidecars_domain_and_the_environments_files() -> None:
    seed = load_handoff(SEED)
    assert seed.acceptance is not None and seed.environment is not None
    assert engine_config(seed.acceptance, seed.environment).live_tls is None  # plain HTTP
    files = RouterTls(ca_file="tls/ca.pem", cert_file="/srv/tls/cert.pem", key_file="tls/k.pem")
    router = seed.environment.router.model_copy(update={"tls": files})
    environment = seed.environment.model_copy(update={"router": router})
    dependencies = seed.acceptance.checks.dependencies.model_copy(
        update={"tls": TlsSettings(domain="ux-portal.demo.test")}
    )
    checks = seed.acceptance.checks.model_copy(update={"dependencies": dependencies})
    acceptance = seed.acceptance.model_copy(update={"checks": checks})
    # Either alone leaves live on plain HTTP (preflight's Domain/SSL finding says why).
    assert live_tls(seed.acceptance, environment) is None
    assert live_tls(acceptance, seed.environment) is None
    found = engine_config(acceptance, environment, base=Path("/work/include")).live_tls
    assert found is not None and found.domain == "ux-portal.demo.test"
    # Relative paths start beside environments/; an absolute one stays as it is.
    assert (found.ca_file, found.cert_file, found.key_file) == (
        "/work/include/tls/ca.pem",
        "/srv/tls/cert.pem",
        "/work/include/tls/k.pem",
    )
