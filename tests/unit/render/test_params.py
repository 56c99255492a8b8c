"""The trigger form: empty rehearsal answers saying what approves; the environment's rules."""

from __future__ import annotations

import dataclasses

import pytest

from handoff.acceptance.environment import RehearsalPolicy
from handoff.catalog import Handoff, load_handoff
from handoff.render.params import trigger_params
from handoff.runtime.settings import MAX_TIME_SCALE
from tests.conftest import SEED


@pytest.fixture(scope="module")
def seed() -> Handoff:
    return load_handoff(SEED)


def test_rehearsal_answers_are_empty_and_say_what_approves(seed: Handoff) -> None:
    params = trigger_params(seed)
    for key, approving in [
        ("answer_go_no_go", "approve"),
        ("answer_user_issues", "none reported"),
        ("answer_handover", "accept handover"),
    ]:
        assert params[key].value is None, key  # on main: the approving answer itself
        assert f"'{approving}' approves this gate without a person" in params[key].description


def test_the_form_names_the_environments_rules(seed: Handoff) -> None:
    params = trigger_params(seed)
    assert params["time_scale"].schema["maximum"] == MAX_TIME_SCALE
    assert "The window and the notice still hold" in params["time_scale"].description
    assert "environments/demo.yaml allows repositories handoff-demo" in (
        params["release"].description
    )
    assert seed.environment is not None
    refused = dataclasses.replace(
        seed,
        environment=seed.environment.model_copy(update={"rehearsals": RehearsalPolicy.REFUSED}),
    )
    params = trigger_params(refused)
    assert params["time_scale"].schema["maximum"] == 1
    assert params["time_scale"].description == (
        "1 only: environments/demo.yaml does not say rehearsals: allowed."
    )
    assert "this environment does not allow rehearsals" in params["answer_handover"].description
