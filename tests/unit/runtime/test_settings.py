"""Run settings from the trigger form, checked against the contract's window and notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.catalog import load_handoff
from handoff.plan import DeploymentPlan
from handoff.runtime.settings import RunSettings, RunSettingsError, resolve_run_settings
from tests.conftest import SEED

ACCEPTED = datetime(2026, 11, 27, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> DeploymentPlan:
    handoff = load_handoff(SEED)
    assert handoff.plan is not None
    return handoff.plan


def test_defaults_schedule_the_deploy_a_full_notice_from_now(plan: DeploymentPlan) -> None:
    now = ACCEPTED + timedelta(hours=1)
    settings = resolve_run_settings(plan, {}, now)
    assert settings.deploy_at == now + timedelta(hours=24)
    assert settings.release == "handoff-demo:1.1.0"
    assert not settings.rehearsal and settings.emergency_reason == ""
    assert settings.window_closes_at == ACCEPTED + timedelta(hours=48)


def test_deploy_outside_the_window_is_refused(plan: DeploymentPlan) -> None:
    with pytest.raises(
        RunSettingsError,
        match=r"outside the deployment window, which closes 2026-11-29T09:00:00\+00:00 "
        r"\(contract line 116\)",
    ):
        resolve_run_settings(plan, {"deploy_at": "2026-11-30T09:00:00Z"}, ACCEPTED)


def test_short_notice_needs_an_emergency_reason(plan: DeploymentPlan) -> None:
    now = ACCEPTED + timedelta(hours=2)
    conf = {"deploy_at": (now + timedelta(hours=1)).isoformat()}
    with pytest.raises(
        RunSettingsError,
        match=r"leaves 60 min of notice; the contract asks for 24 h \(contract line 109\)",
    ):
        resolve_run_settings(plan, conf, now)
    settings = resolve_run_settings(plan, {**conf, "emergency_reason": "CVE fix"}, now)
    assert settings.emergency_reason == "CVE fix"


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"time_scale": "fast"}, "time_scale must be a number"),
        ({"time_scale": 0.5}, "time_scale must be between 1 and"),
        ({"deploy_at": "tomorrow"}, "is not an ISO 8601 date and time"),
        ({"deploy_at": "2026-11-28T09:00:00"}, "has no time zone"),
        ({"deploy_at": "2026-11-20T09:00:00Z"}, "is in the past"),
    ],
)
def test_bad_parameters_are_named(
    plan: DeploymentPlan, conf: dict[str, object], message: str
) -> None:
    with pytest.raises(RunSettingsError, match=message):
        resolve_run_settings(plan, conf, ACCEPTED)


def test_rehearsal_compresses_time_and_ignores_the_real_window(plan: DeploymentPlan) -> None:
    late = ACCEPTED + timedelta(days=30)  # a drill long after the window closed
    settings = resolve_run_settings(plan, {"time_scale": 3600, "answer_go_no_go": ""}, late)
    assert settings.rehearsal
    assert settings.scaled(timedelta(hours=24)) == timedelta(seconds=24)
    assert settings.answers.go_no_go == ""  # empty: a person answers even in a drill
    assert RunSettings.from_xcom(settings.to_xcom()) == settings
