"""Secret-looking values in a sidecar's service.env are refused, whatever the key is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.acceptance import Acceptance, load_yaml_model
from handoff.acceptance.sidecar import secret_kind
from tests.conftest import FIXTURES

# Shapes only: none of these is a real credential.
SECRETS = [
    ("postgres://u:pw@host/db", "a URL with a password"),
    ("amqp://guest:guest@rabbit:5672/", "a URL with a password"),
    ("https://hooks.slack.com/services/T0000/B0000/notarealvalue", "a Slack webhook URL"),
    ("xoxb-0000000000-notarealtoken", "a Slack token"),
    ("ghp_" + "A1b2C3d4" * 5, "a GitHub token"),
    ("AKIA" + "ABCDEFGHIJKLMNOP", "an AWS access key id"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
    ("Zx8Qp2Lm9Vt4Rb7Ny1Wc6Hs3Jd5Kf0Ga", "a random key of 32 characters"),
]
SETTINGS = [
    "info",
    "https://api.example.com/v1",
    "redis://cache:6379/0",
    "postgres://db.internal:5432/app",
    "handoff-demo:2.0.0@sha256:" + "0123456789abcdef" * 4,
    "3f2a9c0d4e5b6a7f8091a2b3c4d5e6f708192a3b",  # a commit id
    "Europe/Amsterdam",
    "feature_flag_new_checkout_enabled_for_all_users",
    "550e8400-e29b-41d4-a716-446655440000",
]


@pytest.mark.parametrize(("value", "kind"), SECRETS)
def test_secret_shapes_are_named(value: str, kind: str) -> None:
    assert secret_kind(value) == kind


@pytest.mark.parametrize("value", SETTINGS)
def test_settings_pass(value: str) -> None:
    assert secret_kind(value) is None


def test_the_error_names_the_key_and_never_the_value(tmp_path: Path) -> None:
    sidecar = tmp_path / "x.deploy.yaml"
    text = (FIXTURES / "acceptance" / "handoffs" / "accepted.deploy.yaml").read_text()
    sidecar.write_text(
        text.replace(
            "  image: handoff-demo:2.0.0\n",
            "  image: handoff-demo:2.0.0\n  env:\n    LOG_LEVEL: info\n"
            "    DATABASE_URL: postgres://u:pw@host/db\n",
        )
    )
    loaded, [problem] = load_yaml_model(sidecar, Acceptance)
    assert loaded is None and problem.line == 9
    assert "DATABASE_URL holds a URL with a password" in problem.message
    assert "pw@" not in problem.render() and "postgres" not in problem.render()
