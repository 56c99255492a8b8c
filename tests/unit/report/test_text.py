"""Measured values as people read them: the common kinds phrased, anything else bounded text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from handoff.report.text import MAX_CHARS, figures
from tests.support.full_report import DEPENDENCY_KINDS, EVERY_KIND, POSTURE


def test_a_journeys_steps_are_counted_with_the_slowest() -> None:
    steps = [
        {"step": 1, "method": "GET", "path": "/", "status": 200, "ms": 45.7},
        {"step": 2, "method": "POST", "path": "/api/records", "status": 201, "ms": 3.1},
    ]
    assert figures({"journey": "x", "steps": steps}) == (
        "2 steps (HTTP 200, 201), slowest GET / 45.7 ms"
    )


def test_a_containers_posture_against_the_old_colours() -> None:
    posture = {**POSTURE, "image_id": "sha256:" + "a" * 64}
    same = figures({"release": posture, "old": posture})
    assert same == (
        "release: exposed ports 8000/tcp, published ports none, not privileged, "
        "no added capabilities; old colour: the same"
    )
    worse = {**posture, "privileged": True, "added_capabilities": ["NET_ADMIN"]}
    assert figures({"release": worse, "old": None}).endswith(
        "privileged, added capabilities NET_ADMIN; no old colour"
    )


def test_latency_and_audits() -> None:
    latency = {"path": "/", "p95_ms": 9.8, "baseline_p95_ms": 8.7, "change_pct": 12.6}
    assert figures({**latency, "requests": 50, "errors": 0}) == (
        "p95 9.8 ms (live baseline 8.7 ms, +12.6 %), 0 errors of 50 requests"
    )
    audit = {"violations": 3, "rules": {"color-contrast": 3}, "old_violations": 0, "old_rules": {}}
    assert figures(audit) == "3 violations (color-contrast x3); old colour 0 (none)"


def test_anything_else_is_readable_bounded_text_never_a_repr() -> None:
    nested = {
        "failed": [],
        "sent": ["NOTICE", "PHASE"],
        "live_before": {"colour": "blue", "fingerprint": "7bb8", "deep": {"a": {"b": {"c": 1}}}},
        "rate_pct": 0.5,
        "ok": True,
        "nothing": None,
        "digest": "f" * 64,
    }
    text = figures(nested)
    assert text == (
        "digest ffffffffffff…; failed none; live before (colour blue; deep (a (b 1 values)); "
        "fingerprint 7bb8); nothing none; ok yes; rate 0.5 %; sent NOTICE, PHASE"
    )
    huge = {"items": [{"k": "v" * 50} for _ in range(40)], "text": "x\n" * 500}
    bounded = figures(huge)
    assert len(bounded) <= MAX_CHARS and bounded.endswith("…") and "\n" not in bounded
    assert "and 32 more" in figures({"items": list(range(40))})
    assert figures({}) == "none"
    for text in (figures(nested), bounded):
        assert "{" not in text and "'" not in text and "[" not in text


@pytest.mark.parametrize(
    ("kind", "measured"),
    [(k.value, m) for k, m in EVERY_KIND] + DEPENDENCY_KINDS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_kind_of_evidence_reads_as_text(kind: str, measured: dict[str, Any]) -> None:
    text = figures(measured)
    assert text and len(text) <= MAX_CHARS
    assert not re.search(r"[{}\[\]'\"]|\w=[({]|True|False|None\b", text), (kind, text)
    keys = [k for k in measured if "_" in k]
    assert not [k for k in keys if k in text], (kind, text)  # keys become words
