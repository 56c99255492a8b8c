"""The contract's Dependencies, proven at preflight before anything is deployed.

Each dependency the project can check has a pure judgement here; preflight
(`handoff.tasks.dependencies`) measures, records each finding under the contract's own
Dependencies item (its name, e.g. "Infrastructure") and aborts on any failure, so nothing is
deployed. Capacity: memory for a second colour beside the live one (both run until
handover), free disk, the engine's version. Access: the Airflow connections exist and answer.
Domain/SSL: `handoff.checks.certificate`. Third parties: each listed service answers its
expected status from inside the release's network. Static assets are the one dependency
judged at a pre-switch gate (`static_assets_gate`): they need the release on the preview.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from handoff.acceptance.sidecar import CapacitySettings, DependencySettings, StaticAsset
from handoff.checks.finding import Finding
from handoff.checks.http import Exchange
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, GateRuns, SidecarSettings
from handoff.contract.model import Item
from handoff.contract.quantities import format_seconds
from handoff.evidence.model import EvidenceStatus
from handoff.target.models import EngineCapacity, ThirdPartyAnswer

MB = 2**20
GROUP = "Dependencies"


class Dependency(enum.Enum):
    """A dependency preflight proves; the value is the label used without a contract item."""

    CAPACITY = "Infrastructure"
    ACCESS = "Access Control"
    TLS = "Domain/SSL"
    DATABASE = "Database"
    THIRD_PARTY = "Third-Party Integrations"
    STATIC_ASSETS = "CDN/Static Assets"


# Words that find a dependency's item among the contract's Dependencies (by its name).
_WORDS: dict[Dependency, tuple[str, ...]] = {
    Dependency.CAPACITY: ("infrastructure", "capacity", "provision"),
    Dependency.ACCESS: ("access", "credential"),
    Dependency.TLS: ("ssl", "tls", "domain", "certificate"),
    Dependency.DATABASE: ("database", "schema", "migration"),
    Dependency.THIRD_PARTY: ("third", "integration", "external", "api key"),
    Dependency.STATIC_ASSETS: ("cdn", "static", "asset"),
}


def item_for(dependency: Dependency, items: Sequence[Item]) -> tuple[str, int]:
    """Return the name (and line, 0 if none) of the contract item a dependency proves."""
    for item in items:
        name = item.name.lower()
        if any(word in name for word in _WORDS[dependency]):
            return item.name, item.line
    return dependency.value, 0


def _mb(value: int) -> str:
    return f"{value / MB:,.0f} MB"


def memory_needed(capacity: EngineCapacity, settings: CapacitySettings) -> int:
    """Return the memory (bytes) that must be available before a second colour starts.

    The new colour may grow to its limit, and the live one (already counted in what is in
    use) from its usage to its own limit: both run until handover.
    """
    live_growth = max(capacity.live_limit - capacity.live_usage, 0)
    return capacity.colour_limit + live_growth + settings.memory_headroom_mb * MB


def judge_capacity(capacity: EngineCapacity, settings: CapacitySettings) -> Finding:
    """Decide whether memory and disk allow a second colour beside the live one."""
    needed = memory_needed(capacity, settings)
    disk_needed = settings.min_free_disk_mb * MB
    problems = []
    if capacity.available_memory < needed:
        problems.append(
            f"memory: {_mb(capacity.available_memory)} available, {_mb(needed)} needed "
            f"(new colour limit {_mb(capacity.colour_limit)} + live colour's room to its limit "
            f"{_mb(max(capacity.live_limit - capacity.live_usage, 0))} + headroom "
            f"{settings.memory_headroom_mb:,} MB)"
        )
    if capacity.free_disk < disk_needed:
        problems.append(f"disk: {_mb(capacity.free_disk)} free, {_mb(disk_needed)} needed")
    summary = (
        "; ".join(problems)
        if problems
        else f"room for a second colour: {_mb(capacity.available_memory)} of "
        f"{_mb(capacity.total_memory)} available, {_mb(needed)} needed; "
        f"{_mb(capacity.free_disk)} disk free, {_mb(disk_needed)} needed"
    )
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        f"capacity: {summary}",
        capacity.to_json(),
        {"available_memory_min": needed, "free_disk_min": disk_needed},
    )


def version_tuple(text: str) -> tuple[int, ...]:
    """Return the leading numbers of a version ('20.10.24+dfsg1' -> (20, 10, 24))."""
    numbers = re.match(r"^v?(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(n) for n in numbers.group(1).split(".")) if numbers else ()


def judge_engine_version(version: str, minimum: str) -> Finding:
    """Decide whether the engine's version is at least the minimum."""
    found, wanted = version_tuple(version), version_tuple(minimum)
    ok = bool(found) and found >= wanted
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        f"engine version {version or 'unknown'} {'meets' if ok else 'is below'} the minimum "
        f"{minimum}",
        {"engine_version": version},
        {"min_engine_version": minimum},
    )


@dataclass(frozen=True)
class ConnectionCheck:
    """One Airflow connection as preflight found it: never its password or extra."""

    conn_id: str
    exists: bool
    conn_type: str = ""
    # Where it was dialled ("host:port"), '' when it names nothing to dial.
    dialled: str = ""
    # None: nothing to dial; else whether a TCP connection was accepted.
    answered: bool | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the connection exists and did not refuse to answer."""
        return self.exists and self.answered is not False

    def describe(self) -> str:
        """Return one phrase about the connection (names and addresses only)."""
        if not self.exists:
            return f"{self.conn_id}: missing ({self.detail})"
        if self.answered is None:
            return f"{self.conn_id} ({self.conn_type}): exists, nothing to dial"
        state = "answers" if self.answered else f"does not answer ({self.detail})"
        return f"{self.conn_id} ({self.conn_type}): {state} at {self.dialled}"


def judge_access(checks: Sequence[ConnectionCheck], notify_only: str = "") -> Finding:
    """Decide whether every connection the handoff needs exists and answers.

    ``notify_only`` names the notification connection (Slack): it must exist, but a silent
    one does not stop a deployment, since notifications are retried and every failure is
    recorded (the Slack-down drill): the finding names it all the same.
    """
    bad = [c for c in checks if not c.ok and not (c.conn_id == notify_only and c.exists)]
    return Finding(
        EvidenceStatus.FAILED if bad else EvidenceStatus.PASSED,
        "connections: " + "; ".join(c.describe() for c in checks),
        {
            "connections": {
                c.conn_id: {"exists": c.exists, "type": c.conn_type, "answered": c.answered}
                for c in checks
            }
        },
        {"exist": [c.conn_id for c in checks], "answer": "those with a host"},
    )


def judge_third_party(
    answer: ThirdPartyAnswer, expected: Sequence[int], network: str, timeout_s: float
) -> Finding:
    """Decide whether one third-party service answered as expected from the release's network."""
    ok = answer.status in expected
    wanted = " or ".join(str(s) for s in expected)
    if answer.status:
        state = f"HTTP {answer.status} ({'expected' if ok else f'expected {wanted}'})"
    else:
        state = f"unreachable ({answer.error or 'no answer'}; expected {wanted})"
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        f"third party {answer.name}: {state} from {network} in {answer.seconds * 1000:.0f} ms, "
        f"GET {answer.url}",
        {
            "name": answer.name,
            "url": answer.url,
            "status": answer.status,
            "latency_ms": round(answer.seconds * 1000, 1),
            "network": network,
            "error": answer.error,
        },
        {"status": list(expected), "timeout_s": timeout_s},
    )


def judge_asset(asset: StaticAsset, answer: Exchange) -> Finding:
    """Decide whether a static asset answers 200 with cache headers and the expected bytes."""
    cache = answer.header("Cache-Control")
    problems = []
    if answer.status != 200:
        problems.append(
            f"HTTP {answer.status}" if answer.status else f"no answer ({answer.error or '?'})"
        )
    else:
        if asset.cache_control is None and not cache:
            problems.append("no Cache-Control header")
        elif asset.cache_control is not None and asset.cache_control not in (cache or ""):
            problems.append(f"Cache-Control {cache!r} lacks {asset.cache_control!r}")
        if answer.sha256 != asset.sha256:
            problems.append(f"content changed: sha256 {answer.sha256[:12]}…")
    return Finding(
        EvidenceStatus.FAILED if problems else EvidenceStatus.PASSED,
        f"asset {asset.path}: "
        + ("; ".join(problems) if problems else f"200, Cache-Control {cache!r}, sha256 matches")
        + f" (expected sha256 {asset.sha256[:12]}…)",
        {
            "path": asset.path,
            "status": answer.status,
            "cache_control": cache,
            "sha256": answer.sha256,
            "bytes": answer.size,
            "latency_ms": round(answer.seconds * 1000, 1),
        },
        {"status": 200, "cache_control": asset.cache_control or "present", "sha256": asset.sha256},
    )


def configured(settings: DependencySettings) -> list[str]:
    """Return what is checked for this sidecar before anything goes live, a phrase each (lint).

    Every dependency has its phrase, configured or not, so lint shows what is left unproven.
    """
    capacity = settings.capacity
    listed = [
        f"capacity (memory headroom {capacity.memory_headroom_mb} MB, disk "
        f"{capacity.min_free_disk_mb} MB, engine >= {capacity.min_engine_version})",
        "access (the Slack connection"
        + (f", {', '.join(settings.access.connections)}" if settings.access.connections else "")
        + ")",
    ]
    if settings.tls:
        margin = format_seconds(settings.tls.margin.total_seconds())
        listed.append(f"tls ({settings.tls.domain}, margin {margin})")
    else:
        listed.append("tls: not configured (checks.dependencies.tls), plain HTTP")
    if settings.third_parties:
        listed.append(
            "third parties from the release's network ("
            + ", ".join(
                f"{s.name} {s.url or 'connection ' + str(s.connection)} -> "
                + "/".join(str(code) for code in s.expected)
                for s in settings.third_parties
            )
            + ")"
        )
    else:
        listed.append("third parties: none listed (checks.dependencies.third_parties)")
    if settings.static_assets:
        listed.append(
            "static assets through the preview before the switch ("
            + ", ".join(a.path for a in settings.static_assets)
            + ")"
        )
    else:
        listed.append("static assets: none listed (checks.dependencies.static_assets)")
    return listed


# Recorded by preflight (`handoff.tasks.steps.preflight`) and the static-assets gate under the
# contract's Dependencies items, not under criteria: no rule binds a criterion by its words.
SPEC = CheckSpec(
    kind=CheckKind.DEPENDENCIES,
    rules=(),
    phases=(CheckPhase.PREFLIGHT, CheckPhase.PRE_SWITCH),
    settings=(SidecarSettings("dependencies", DependencySettings),),
    # Static assets need the release: judged on the preview, before the switch.
    gates=(
        Gate(
            CheckPhase.PRE_SWITCH,
            "static_assets",
            "handoff.tasks.dependencies:static_assets_gate",
            runs=GateRuns.WHEN_CONFIGURED,
            configured=lambda acceptance: bool(acceptance.checks.dependencies.static_assets),
        ),
    ),
)
