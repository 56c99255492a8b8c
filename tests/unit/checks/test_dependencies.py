"""Capacity arithmetic, the engine's version, connections and the contract items they prove."""

from __future__ import annotations

import pytest

from handoff.acceptance.sidecar import CapacitySettings, DependencySettings
from handoff.bluegreen.capacity import parse_probe_output
from handoff.bluegreen.errors import BlueGreenError
from handoff.checks.dependencies import (
    MB,
    ConnectionCheck,
    Dependency,
    configured,
    item_for,
    judge_access,
    judge_capacity,
    judge_engine_version,
    memory_needed,
    version_tuple,
)
from handoff.contract.model import Item
from handoff.evidence.model import EvidenceStatus
from handoff.target.models import EngineCapacity


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
