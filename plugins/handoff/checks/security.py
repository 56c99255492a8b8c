"""Security posture of a release, judged on its answers and the target's inspection.

Three findings: response headers (required set present, no server version named), the
container's posture compared with the old colour (no new exposed or published port, no
privileged mode, no added capability), and the release pinned by its immutable image id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from handoff.acceptance.sidecar import SecuritySettings
from handoff.checks.finding import Finding
from handoff.checks.http import Exchange
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, Rule, SidecarSettings
from handoff.evidence.model import EvidenceStatus
from handoff.target.models import ColourPosture

#: Headers every answer must carry unless a sidecar says otherwise; None: any value.
DEFAULT_REQUIRED_HEADERS: dict[str, str | None] = {"X-Content-Type-Options": "nosniff"}
#: Headers that tell an attacker which software and version to aim at.
_VERSION_HEADERS = ("Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version")
_VERSION = re.compile(r"\d+\.\d+")


def header_problems(answer: Exchange, required: Mapping[str, str | None]) -> list[str]:
    """Return what is wrong with one answer's headers (missing, wrong value, version leak)."""
    if answer.status == 0:
        return [f"no answer ({answer.error})"]
    problems = []
    for name, expected in required.items():
        value = answer.header(name)
        if value is None:
            problems.append(f"{name} missing")
        elif expected is not None and value.strip().lower() != expected.strip().lower():
            problems.append(f"{name} is {value!r}, expected {expected!r}")
    for name in _VERSION_HEADERS:
        value = answer.header(name)
        if value and _VERSION.search(value):
            problems.append(f"{name} names a version: {value!r}")
    return problems


def judge_headers(answers: Mapping[str, Exchange], required: Mapping[str, str | None]) -> Finding:
    """Decide the header finding over the answers of several paths."""
    problems = {path: header_problems(a, required) for path, a in answers.items()}
    bad = {path: found for path, found in problems.items() if found}
    wanted = ", ".join(f"{k}: {v}" if v else k for k, v in required.items()) or "none"
    if bad:
        detail = "; ".join(f"{path}: {', '.join(found)}" for path, found in bad.items())
        summary = f"headers on {len(bad)} of {len(answers)} paths fail: {detail}"
    else:
        summary = f"headers on {len(answers)} paths: required {wanted} present, no version named"
    return Finding(
        EvidenceStatus.FAILED if bad else EvidenceStatus.PASSED,
        summary,
        {"paths": sorted(answers), "problems": bad},
        {"required_headers": dict(required), "version_headers": list(_VERSION_HEADERS)},
    )


def judge_posture(new: ColourPosture, old: ColourPosture | None) -> Finding:
    """Decide the container finding: nothing exposed, published or privileged beyond the old."""
    reference = old or ColourPosture("", frozenset(), frozenset(), False, frozenset())
    problems = []
    extra_exposed = sorted(new.exposed_ports - reference.exposed_ports)
    extra_published = sorted(new.published_ports - reference.published_ports)
    extra_caps = sorted(new.added_capabilities - reference.added_capabilities)
    if extra_exposed:
        problems.append(f"new exposed ports {', '.join(extra_exposed)}")
    if extra_published:
        problems.append(f"new published ports {', '.join(extra_published)}")
    if new.privileged and not reference.privileged:
        problems.append("runs privileged")
    if extra_caps:
        problems.append(f"added capabilities {', '.join(extra_caps)}")
    against = "the old colour" if old else "an unprivileged container with no ports (no old colour)"
    ports = ", ".join(sorted(new.exposed_ports)) or "none"
    summary = (
        f"container versus {against}: {'; '.join(problems)}"
        if problems
        else f"container versus {against}: exposes {ports}, nothing new published, "
        f"not privileged, no added capabilities"
    )
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        summary,
        {"release": new.to_json(), "old": old.to_json() if old else None},
        {"new_exposed_ports": 0, "new_published_ports": 0, "privileged": False, "cap_add": 0},
    )


def judge_pinning(release: str, running_image_id: str, tag_image_id: str | None) -> Finding:
    """Decide the pinning finding: the release is recorded by its immutable image id."""
    pinned = running_image_id.startswith("sha256:")
    moved = tag_image_id is not None and tag_image_id != running_image_id
    summary = (
        f"release {release} recorded as image {running_image_id}"
        if pinned
        else f"release {release}: running image id {running_image_id!r} is not a content digest"
    )
    if moved:
        summary += f"; note: the tag now names {tag_image_id} (rebuilt since the deploy)"
    return Finding(
        EvidenceStatus.PASSED if pinned else EvidenceStatus.FAILED,
        summary,
        {"release": release, "image_id": running_image_id, "tag_now": tag_image_id},
        {"image_id": "sha256 content digest"},
    )


def judge_scan(image: str, exit_code: int, last_line: str) -> Finding:
    """Decide the scanner finding: exit 0 means no finding."""
    return Finding(
        EvidenceStatus.PASSED if exit_code == 0 else EvidenceStatus.FAILED,
        f"scanner {image} exited {exit_code}: {last_line or '(no output)'}",
        {"scanner": image, "exit_code": exit_code, "summary": last_line},
        {"exit_code": 0},
    )


# The environment's scanner (`security_scan`, a DockerOperator) is placed by the DAG itself:
# it depends on the environment, not on the sidecar.
SPEC = CheckSpec(
    kind=CheckKind.SECURITY,
    rules=(Rule(140, ("security",)), Rule(150, ("vulnerab",))),
    phases=(CheckPhase.PRE_SWITCH,),
    settings=(SidecarSettings("security", SecuritySettings),),
    gates=(Gate(CheckPhase.PRE_SWITCH, "security", "handoff.tasks.check_gates:security_gate"),),
)
