"""Security decisions: headers, version leaks, container posture versus the old colour."""

from __future__ import annotations

from typing import Any

from handoff.bluegreen.target import posture_from_inspection
from handoff.checks.http import Exchange
from handoff.checks.security import (
    DEFAULT_REQUIRED_HEADERS,
    header_problems,
    judge_headers,
    judge_pinning,
    judge_posture,
    judge_scan,
)
from handoff.evidence import EvidenceStatus


def answer(**headers: str) -> Exchange:
    return Exchange(200, 0.01, {k.replace("_", "-"): v for k, v in headers.items()})


def inspection(
    exposed: tuple[str, ...] = ("8000/tcp",),
    published: dict[str, Any] | None = None,
    privileged: bool = False,
    cap_add: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "Image": "sha256:" + "a" * 64,
        "Config": {"ExposedPorts": {p: {} for p in exposed}},
        "HostConfig": {
            "PortBindings": published or {},
            "Privileged": privileged,
            "CapAdd": cap_add,
        },
        "NetworkSettings": {"Ports": {p: None for p in exposed}},
    }


def test_required_headers_present_and_no_version_passes() -> None:
    ok = answer(X_Content_Type_Options="nosniff", Server="handoff-demo")
    assert header_problems(ok, DEFAULT_REQUIRED_HEADERS) == []
    finding = judge_headers({"/": ok, "/health": ok}, DEFAULT_REQUIRED_HEADERS)
    assert finding.status is EvidenceStatus.PASSED


def test_missing_header_wrong_value_and_leaked_version_are_named() -> None:
    required = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": None}
    bad = answer(X_Content_Type_Options="sniff", Server="handoff-demo/1.1.0 Python/3.11.2")
    problems = header_problems(bad, required)
    assert problems == [
        "X-Content-Type-Options is 'sniff', expected 'nosniff'",
        "X-Frame-Options missing",
        "Server names a version: 'handoff-demo/1.1.0 Python/3.11.2'",
    ]
    finding = judge_headers({"/": bad}, required)
    assert finding.failed and finding.measured["problems"]["/"] == problems


def test_header_names_are_case_insensitive_and_no_answer_fails() -> None:
    assert header_problems(answer(x_content_type_options="NOSNIFF"), DEFAULT_REQUIRED_HEADERS) == []
    assert header_problems(Exchange(0, 1.0, error="refused"), {}) == ["no answer (refused)"]


def test_posture_reads_the_engine_inspection() -> None:
    posture = posture_from_inspection(
        inspection(
            ("8000/tcp", "9229/tcp"),
            published={"9229/tcp": [{"HostPort": "9229"}]},
            cap_add=["NET_ADMIN"],
        )
    )
    assert posture.exposed_ports == {"8000/tcp", "9229/tcp"}
    assert posture.published_ports == {"9229/tcp"}
    assert posture.added_capabilities == {"NET_ADMIN"}


def test_same_posture_as_the_old_colour_passes() -> None:
    old = posture_from_inspection(inspection())
    new = posture_from_inspection(inspection())
    finding = judge_posture(new, old)
    assert finding.status is EvidenceStatus.PASSED
    assert "exposes 8000/tcp" in finding.summary


def test_new_port_privilege_or_capability_versus_the_old_colour_fails() -> None:
    old = posture_from_inspection(inspection())
    extra_port = judge_posture(posture_from_inspection(inspection(("8000/tcp", "9229/tcp"))), old)
    assert extra_port.failed and "new exposed ports 9229/tcp" in extra_port.summary
    published = judge_posture(
        posture_from_inspection(inspection(published={"8000/tcp": [{"HostPort": "80"}]})), old
    )
    assert published.failed and "new published ports 8000/tcp" in published.summary
    privileged = judge_posture(posture_from_inspection(inspection(privileged=True)), old)
    assert privileged.failed and "runs privileged" in privileged.summary
    caps = judge_posture(posture_from_inspection(inspection(cap_add=["SYS_ADMIN"])), old)
    assert caps.failed and "added capabilities SYS_ADMIN" in caps.summary


def test_capability_the_old_colour_had_already_is_not_new() -> None:
    old = posture_from_inspection(inspection(cap_add=["NET_BIND_SERVICE"]))
    new = posture_from_inspection(inspection(cap_add=["NET_BIND_SERVICE"]))
    assert judge_posture(new, old).status is EvidenceStatus.PASSED


def test_pinning_needs_a_content_digest_and_notes_a_moved_tag() -> None:
    digest = "sha256:" + "b" * 64
    assert judge_pinning("demo:1", digest, digest).status is EvidenceStatus.PASSED
    moved = judge_pinning("demo:1", digest, "sha256:" + "c" * 64)
    assert moved.status is EvidenceStatus.PASSED and "rebuilt since the deploy" in moved.summary
    assert judge_pinning("demo:1", "demo:1", None).failed


def test_scanner_exit_code_decides() -> None:
    assert judge_scan("scanner", 0, "0 findings").status is EvidenceStatus.PASSED
    failed = judge_scan("scanner", 1, "2 findings")
    assert failed.failed and failed.summary == "scanner scanner exited 1: 2 findings"
