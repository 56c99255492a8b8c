"""The stack's settings and the webhook secret's file (include/observability/stack.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "include" / "observability" / "stack.py"
spec = importlib.util.spec_from_file_location("observability_stack_under_test", SCRIPT)
assert spec is not None and spec.loader is not None
stack = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = stack
spec.loader.exec_module(stack)


def webhook(tmp_path: Path, text: str, mode: int) -> object:
    path = tmp_path / "hook"
    path.write_text(text)
    path.chmod(mode)
    settings = stack.Settings(webhook_file=path)
    return stack.Stack(settings, client=object())._webhook_url()


def test_a_webhook_file_others_can_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="readable by others"):
        webhook(tmp_path, "https://hooks.example.invalid/x\n", 0o644)


def test_the_webhook_url_is_read_from_a_private_file(tmp_path: Path) -> None:
    assert webhook(tmp_path, "https://hooks.example.invalid/x\n", 0o600) == (
        "https://hooks.example.invalid/x"
    )
    with pytest.raises(SystemExit, match="does not hold one http"):
        webhook(tmp_path, "not a url", 0o600)


def test_no_webhook_file_means_nobody_is_posted_to(tmp_path: Path) -> None:
    settings = stack.Settings(webhook_file=tmp_path / "missing")
    assert stack.Stack(settings, client=object())._webhook_url() == stack.NO_WEBHOOK


def test_ports_are_published_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_PROMETHEUS_PORT", "29090")
    settings = stack.Settings.from_env()
    assert settings.bind == "127.0.0.1" and settings.url(settings.prometheus_port) == (
        "http://127.0.0.1:29090"
    )
    # A changed setting changes the container's spec, so `up` replaces it.
    (first,) = [c for c in stack.components(settings) if c.name == "handoff-prometheus"]
    (default,) = [c for c in stack.components(stack.Settings()) if c.name == "handoff-prometheus"]
    assert first.spec("sha256:x", "127.0.0.1") != default.spec("sha256:x", "127.0.0.1")
