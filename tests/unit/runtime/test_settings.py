"""Run settings from the trigger form, checked against the contract's window and notice,
and against the environment's rules: rehearsals and releases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.acceptance.environment import RehearsalPolicy, ReleasePolicy
from handoff.catalog import load_handoff
from handoff.plan import DeploymentPlan
from handoff.runtime.settings import Answers, RunSettings, RunSettingsError, resolve_run_settings
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


# Inside the seed's window, a full notice before the deploy: what a rehearsal must respect.
IN_WINDOW = ACCEPTED + timedelta(hours=1)
DEPLOY = (IN_WINDOW + timedelta(hours=24)).isoformat()
DIGEST = "sha256:" + "ab" * 32


def with_environment(plan: DeploymentPlan, **fields: Any) -> DeploymentPlan:
    """Return the plan with its environment's fields replaced."""
    assert plan.environment is not None
    return dataclasses.replace(plan, environment=plan.environment.model_copy(update=fields))


def test_rehearsal_compresses_time_inside_the_window(plan: DeploymentPlan) -> None:
    conf = {"time_scale": 3600, "deploy_at": DEPLOY}
    settings = resolve_run_settings(plan, conf, IN_WINDOW)
    assert settings.rehearsal
    assert settings.scaled(timedelta(hours=24)) == timedelta(seconds=24)
    assert settings.answers == Answers("", "", "")  # none given: a person answers
    assert RunSettings.from_xcom(settings.to_xcom()) == settings


def test_default_answers_are_empty_so_a_person_is_asked(plan: DeploymentPlan) -> None:
    # On main the defaults were "approve", "none reported", "accept handover": a drill
    # triggered with the form's defaults passed every human gate against the real engine.
    assert Answers() == Answers(go_no_go="", user_issues="", handover="")
    settings = resolve_run_settings(plan, {"time_scale": 7200, "deploy_at": DEPLOY}, IN_WINDOW)
    assert settings.answers == Answers()
    given = {"answer_go_no_go": " approve ", "answer_user_issues": None, "answer_handover": ""}
    settings = resolve_run_settings(
        plan, {"time_scale": 7200, "deploy_at": DEPLOY, **given}, IN_WINDOW
    )
    assert settings.answers == Answers(go_no_go="approve")


@pytest.mark.parametrize("scale", [1, 1.0001, 3600])
def test_deploy_outside_the_window_is_refused_at_every_scale(
    plan: DeploymentPlan, scale: float
) -> None:
    # On main 1.0001 counted as a rehearsal and skipped this check.
    late = ACCEPTED + timedelta(days=30)
    with pytest.raises(RunSettingsError, match=r"outside the deployment window, which closes"):
        resolve_run_settings(plan, {"time_scale": scale}, late)
    conf = {"time_scale": scale, "deploy_at": "2026-11-30T09:00:00Z"}
    with pytest.raises(RunSettingsError, match=r"closes 2026-11-29T09:00:00\+00:00"):
        resolve_run_settings(plan, conf, ACCEPTED)


@pytest.mark.parametrize("scale", [1.0001, 7200])
def test_a_rehearsal_owes_the_contracts_notice_in_its_own_time(
    plan: DeploymentPlan, scale: float
) -> None:
    now = IN_WINDOW
    conf = {"time_scale": scale, "deploy_at": now.isoformat()}
    with pytest.raises(RunSettingsError, match=r"leaves 0 s of notice; the contract asks for 24 h"):
        resolve_run_settings(plan, conf, now)
    settings = resolve_run_settings(plan, {**conf, "emergency_reason": "drill"}, now)
    assert settings.emergency_reason == "drill"


@pytest.mark.parametrize("scale", [1.0001, 2, 3600])
def test_a_rehearsal_is_refused_where_the_environment_does_not_allow_it(
    plan: DeploymentPlan, scale: float
) -> None:
    refused = with_environment(plan, rehearsals=RehearsalPolicy.REFUSED)
    conf = {"time_scale": scale, "deploy_at": DEPLOY}
    with pytest.raises(
        RunSettingsError,
        match=r"asks for a rehearsal, but /srv/environments/prod\.yaml does not allow rehearsals "
        r"\(field rehearsals: refused; expected rehearsals: allowed\)",
    ):
        resolve_run_settings(refused, conf, IN_WINDOW, Path("/srv/environments/prod.yaml"))
    # Unnamed, the error still says which file: the sidecar's environment.
    with pytest.raises(RunSettingsError, match=r"environments/demo\.yaml does not allow"):
        resolve_run_settings(refused, conf, IN_WINDOW)
    # Real time needs no permission.
    assert not resolve_run_settings(refused, {"deploy_at": DEPLOY}, IN_WINDOW).rehearsal


def test_an_environment_file_without_the_field_refuses_rehearsals() -> None:
    from handoff.acceptance.environment import Environment

    minimal = {"name": "prod", "router": {"live_port": 80, "preview_port": 81}}
    environment = Environment.model_validate(minimal)
    assert environment.rehearsals is RehearsalPolicy.REFUSED
    assert not environment.releases.restricted


@pytest.mark.parametrize(
    "release",
    [
        "handoff-demo-evil:1.0.0",  # a repository that only starts like the allowed one
        "evil/handoff-demo:1.1.0",
        "busybox:latest",  # any image present on the engine
        "handoff-demo:1.1.0 --privileged",
        "handoff-demo/../busybox:1",
        f"other@sha256:{'cd' * 32}",
    ],
)
def test_a_release_outside_the_allowed_prefixes_is_refused(
    plan: DeploymentPlan, release: str
) -> None:
    with pytest.raises(
        RunSettingsError,
        match=r"release .* is not allowed by environments/demo\.yaml \(field releases: "
        r"allowed_prefixes, digests\): allowed are repositories handoff-demo",
    ):
        resolve_run_settings(plan, {"release": release, "deploy_at": DEPLOY}, IN_WINDOW)


@pytest.mark.parametrize(
    "release", ["handoff-demo:1.2.0", "handoff-demo:1.2.0-debug-port", f"handoff-demo@{DIGEST}"]
)
def test_a_release_under_an_allowed_prefix_is_taken(plan: DeploymentPlan, release: str) -> None:
    settings = resolve_run_settings(plan, {"release": release, "deploy_at": DEPLOY}, IN_WINDOW)
    assert settings.release == release


def test_a_release_pinned_by_an_allowed_digest_is_taken(plan: DeploymentPlan) -> None:
    pinned = with_environment(plan, releases=ReleasePolicy(digests=[DIGEST]))
    for release in (f"registry.example/any@{DIGEST}", DIGEST):
        conf = {"release": release, "deploy_at": DEPLOY}
        assert resolve_run_settings(pinned, conf, IN_WINDOW).release == release
    with pytest.raises(RunSettingsError, match=r"allowed are digests sha256:abababababab"):
        conf = {"release": "handoff-demo:1.2.0", "deploy_at": DEPLOY}
        resolve_run_settings(pinned, conf, IN_WINDOW)


def test_without_releases_only_the_sidecars_image_runs(plan: DeploymentPlan) -> None:
    open_plan = with_environment(plan, releases=ReleasePolicy())
    assert resolve_run_settings(open_plan, {"deploy_at": DEPLOY}, IN_WINDOW).release == (
        "handoff-demo:1.1.0"
    )
    with pytest.raises(
        RunSettingsError, match=r"allowed are the sidecar's image 'handoff-demo:1\.1\.0' only"
    ):
        resolve_run_settings(open_plan, {"release": "x:1", "deploy_at": DEPLOY}, IN_WINDOW)
