"""Capacity arithmetic, the engine's version, connections and the contract items they prove."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from handoff.acceptance.sidecar import (
    CapacitySettings,
    DependencySettings,
    StaticAsset,
    ThirdPartyService,
)
from handoff.bluegreen.capacity import parse_probe_output
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.third_party import parse_answers
from handoff.checks.dependencies import (
    MB,
    ConnectionCheck,
    Dependency,
    configured,
    item_for,
    judge_access,
    judge_asset,
    judge_capacity,
    judge_engine_version,
    judge_third_party,
    memory_needed,
    version_tuple,
)
from handoff.checks.http import Exchange
from handoff.contract.model import Item
from handoff.evidence.model import EvidenceStatus
from handoff.target.models import EngineCapacity, ThirdPartyAnswer, ThirdPartyCall


def _engine(available_mb: int, live_usage_mb: int = 100, disk_mb: int = 5000) -> EngineCapacity:
    return EngineCapacity(
        "20.10.24", 8000 * MB, available_mb * MB, disk_mb * MB, 512 * MB, 512 * MB,
        live_usage_mb * MB,
    )  # fmt: skip


def test_memory_needed_is_the_new_limit_plus_the_live_colours_room_plus_headroom() -> None:
    settings = CapacitySettings(memory_headroom_mb=256)
    # 512 (new colour) + (512 - 100) live colour's room to grow + 256 headroom.
    assert memory_needed(_engine(2000), settings) == (512 + 412 + 256) * MB
    # A live colour above its limit (swap accounting) owes no room.
    assert memory_needed(_engine(2000, live_usage_mb=600), settings) == (512 + 256) * MB


def test_capacity_passes_at_exactly_enough_and_fails_below_naming_both_figures() -> None:
    settings = CapacitySettings(memory_headroom_mb=256, min_free_disk_mb=1000)
    assert judge_capacity(_engine(1180), settings).status is EvidenceStatus.PASSED
    short = judge_capacity(_engine(1179), settings)
    assert short.failed and "memory: 1,179 MB available, 1,180 MB needed" in short.summary
    disk = judge_capacity(_engine(4000, disk_mb=999), settings)
    assert disk.failed and "disk: 999 MB free, 1,000 MB needed" in disk.summary


def test_the_engine_version_is_compared_by_its_numbers() -> None:
    assert version_tuple("20.10.24+dfsg1") == (20, 10, 24)
    assert judge_engine_version("20.10.24+dfsg1", "20.10").status is EvidenceStatus.PASSED
    assert judge_engine_version("19.03.15", "20.10").failed
    assert judge_engine_version("", "20.10").failed


def test_a_missing_connection_or_one_that_does_not_answer_fails_naming_no_secret() -> None:
    good = ConnectionCheck("handoff_slack", True, "slackwebhook", "127.0.0.1:9", True)
    quiet = ConnectionCheck("registry", True, "http", "127.0.0.1:9", False, "ConnectionRefused")
    missing = ConnectionCheck("db", False, detail="not defined: AirflowNotFoundException")
    nothing = ConnectionCheck("vault", True, "generic")
    assert judge_access([good, nothing]).status is EvidenceStatus.PASSED
    found = judge_access([good, quiet, missing])
    assert found.failed
    assert "registry (http): does not answer (ConnectionRefused) at 127.0.0.1:9" in found.summary
    assert "db: missing (not defined" in found.summary


def test_a_silent_slack_is_named_but_never_stops_a_deployment_a_missing_one_does() -> None:
    silent = ConnectionCheck("handoff_slack", True, "slackwebhook", "127.0.0.1:9", False, "E")
    found = judge_access([silent], notify_only="handoff_slack")
    assert found.status is EvidenceStatus.PASSED
    assert "handoff_slack (slackwebhook): does not answer (E)" in found.summary
    missing = ConnectionCheck("handoff_slack", False, detail="not defined")
    assert judge_access([missing], notify_only="handoff_slack").failed


def test_findings_go_under_the_contracts_own_items() -> None:
    items = [Item("Infrastructure", "provisioned", 73), Item("Domain/SSL", "certificates", 75)]
    assert item_for(Dependency.CAPACITY, items) == ("Infrastructure", 73)
    assert item_for(Dependency.TLS, items) == ("Domain/SSL", 75)
    assert item_for(Dependency.ACCESS, items) == ("Access Control", 0)


def test_the_probe_output_gives_total_and_available_memory_and_free_disk() -> None:
    text = "MemTotal: 8192000 kB\nMemAvailable:    4096000 kB\noverlay 100000 40000 60000 40% /\n"
    assert parse_probe_output(text) == (8192000 * 1024, 4096000 * 1024, 60000 * 1024)
    with pytest.raises(BlueGreenError, match="unexpected output"):
        parse_probe_output("MemAvailable: 4096000 kB\noverlay 100000 40000 60000 40% /\n")


def test_lint_lists_what_is_configured() -> None:
    listed = configured(DependencySettings())
    assert listed[0].startswith("capacity (memory headroom 256 MB")
    assert listed[2].startswith("tls: not configured")
    assert listed[3:] == [
        "third parties: none listed (checks.dependencies.third_parties)",
        "static assets: none listed (checks.dependencies.static_assets)",
    ]
    # Third parties and assets appear only when listed, each by what it asks.
    settings = DependencySettings(
        third_parties=[
            ThirdPartyService(name="payments", url="https://pay.example.com/ping"),
            ThirdPartyService(name="crm", connection="crm_api", expect_status=[200, 401]),
        ],
        static_assets=[StaticAsset(path="/static/app.css", sha256="a" * 64)],
    )
    listed = configured(settings)
    assert listed[3] == (
        "third parties from the release's network (payments https://pay.example.com/ping -> "
        "200, crm connection crm_api -> 200/401)"
    )
    assert listed[4] == "static assets through the preview before the switch (/static/app.css)"


def test_a_third_party_needs_exactly_one_address_and_unique_names() -> None:
    with pytest.raises(ValidationError, match="exactly one of url or connection"):
        ThirdPartyService(name="crm")
    with pytest.raises(ValidationError, match="exactly one of url or connection"):
        ThirdPartyService(name="crm", url="http://crm:80/", connection="crm_api")
    with pytest.raises(ValidationError, match="url"):
        ThirdPartyService(name="crm", url="ftp://crm/")  # http(s) only
    with pytest.raises(ValidationError, match="url"):
        ThirdPartyService(name="crm", url="http://crm/a path")  # no whitespace
    with pytest.raises(ValidationError, match="unique: crm"):
        DependencySettings(
            third_parties=[
                ThirdPartyService(name="crm", url="http://a/"),
                ThirdPartyService(name="crm", url="http://b/"),
            ]
        )
    with pytest.raises(ValidationError, match="timeout"):
        ThirdPartyService(name="crm", url="http://a/", timeout="10 minutes")


def test_a_third_party_passes_on_its_expected_status_and_fails_unreachable_with_latency() -> None:
    ok = judge_third_party(ThirdPartyAnswer("crm", "http://crm/", 401, 0.0123), (200, 401), "n", 5)
    assert not ok.failed and ok.measured["latency_ms"] == 12.3
    assert ok.summary == "third party crm: HTTP 401 (expected) from n in 12 ms, GET http://crm/"
    wrong = judge_third_party(ThirdPartyAnswer("crm", "http://crm/", 500, 0.01), (200,), "n", 5)
    assert wrong.failed and "HTTP 500 (expected 200)" in wrong.summary
    refused = ThirdPartyAnswer("crm", "http://crm/", 0, 0.002, "ConnectionRefusedError: refused")
    down = judge_third_party(refused, (200,), "shop-net", 5)
    assert down.failed and down.summary.startswith(
        "third party crm: unreachable (ConnectionRefusedError: refused; expected 200) from shop-net"
    )
    assert down.thresholds == {"status": [200], "timeout_s": 5}


def test_the_probe_programs_lines_give_an_answer_per_call_even_a_missing_one() -> None:
    calls = [ThirdPartyCall("a", "http://a/", 1.0), ThirdPartyCall("b", "http://b/", 1.0)]
    output = 'noise\n{"name": "a", "status": 204, "error": "", "seconds": 0.5}\n{broken\n'
    first, second = parse_answers(output, calls)
    assert (first.status, first.seconds, first.url) == (204, 0.5, "http://a/")
    assert (second.status, second.error) == (0, "the probe printed nothing")


def test_a_static_asset_passes_with_its_bytes_and_cache_header_and_fails_otherwise() -> None:
    body = b"body{color:#111}\n"
    digest = hashlib.sha256(body).hexdigest()
    asset = StaticAsset(path="/static/app.css", sha256=digest, cache_control="max-age=3600")
    good = Exchange(200, 0.01, {"cache-control": "public, max-age=3600"}, sha256=digest, size=17)
    assert not judge_asset(asset, good).failed
    changed = Exchange(200, 0.01, {"Cache-Control": "public, max-age=3600"}, sha256="b" * 64)
    assert "content changed: sha256 bbbbbbbbbbbb" in judge_asset(asset, changed).summary
    uncached = Exchange(200, 0.01, {"Cache-Control": "no-store"}, sha256=digest)
    assert "lacks 'max-age=3600'" in judge_asset(asset, uncached).summary
    missing = judge_asset(asset, Exchange(404, 0.01, {}, sha256=digest))
    assert missing.failed and missing.summary.startswith("asset /static/app.css: HTTP 404")
    present_only = StaticAsset(path="/static/app.css", sha256=digest)
    assert judge_asset(present_only, Exchange(200, 0.0, {}, sha256=digest)).summary.startswith(
        "asset /static/app.css: no Cache-Control header"
    )
