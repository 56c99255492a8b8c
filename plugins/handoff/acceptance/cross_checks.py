"""Cross-checks between a contract, its acceptance sidecar and the sidecar's environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from handoff.acceptance.environment import Environment
from handoff.acceptance.sidecar import Acceptance
from handoff.acceptance.yaml_files import Loaded
from handoff.contract.model import CommunicationKind, Contract, WindowKind
from handoff.contract.quantities import format_seconds
from handoff.errors import Diagnostic, Severity


def _span(delta: timedelta) -> str:
    return format_seconds(delta.total_seconds())


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@dataclass
class _Checker:
    contract: Contract
    sidecar: Loaded[Acceptance]
    found: list[Diagnostic] = field(default_factory=list)

    def report(self, severity: Severity, key: str, message: str, hint: str | None = None) -> None:
        self.found.append(
            Diagnostic(severity, self.sidecar.path, self.sidecar.line(key), message, hint)
        )

    def identity(self) -> None:
        acceptance, contract = self.sidecar.value, self.contract
        if acceptance.handoff_id != contract.handoff_id:
            self.report(
                Severity.ERROR,
                "handoff_id",
                f"handoff_id {acceptance.handoff_id!r} does not match the contract's "
                f"{contract.handoff_id!r} ({contract.source.path.name})",
                f"set handoff_id: {contract.handoff_id}",
            )
        if acceptance.accepted_at < contract.timestamp:
            self.report(
                Severity.WARNING,
                "accepted_at",
                f"accepted_at {_when(acceptance.accepted_at)} is before the handoff itself "
                f"({_when(contract.timestamp)})",
            )

    def deploy_window(self) -> None:
        acceptance = self.sidecar.value
        deploy_at = acceptance.deploy_at
        window = self.contract.window(WindowKind.DEPLOYMENT_WINDOW)
        if deploy_at is None:
            return
        if deploy_at < acceptance.accepted_at:
            self.report(
                Severity.ERROR,
                "deploy_at",
                f"deploy_at {_when(deploy_at)} is before accepted_at "
                f"{_when(acceptance.accepted_at)}",
            )
        elif window is not None and window.duration is not None:
            closes = acceptance.accepted_at + window.duration
            if deploy_at > closes:
                self.report(
                    Severity.ERROR,
                    "deploy_at",
                    f"deploy_at {_when(deploy_at)} is outside the deployment window: the contract "
                    f"allows {_span(window.duration)} after acceptance (contract line "
                    f"{window.line}), so the window closes {_when(closes)}",
                    "move deploy_at into the window, or have the handoff accepted again",
                )

    def notice_lead(self) -> None:
        acceptance = self.sidecar.value
        notice = self.contract.message(CommunicationKind.PRE_DEPLOY_NOTICE)
        if notice is None or notice.offset is None:
            return
        if acceptance.notice_lead is not None and acceptance.notice_lead < notice.offset:
            self.report(
                Severity.WARNING,
                "notice_lead",
                f"notice_lead {_span(acceptance.notice_lead)} is shorter than the contract's "
                f"{_span(notice.offset)} notice (contract line {notice.line})",
            )
        if acceptance.deploy_at is not None:
            available = acceptance.deploy_at - acceptance.accepted_at
            lead = acceptance.notice_lead or notice.offset
            if available < lead:
                self.report(
                    Severity.WARNING,
                    "deploy_at",
                    f"only {_span(available)} between acceptance and deploy_at: the "
                    f"{_span(lead)} notice cannot be given in full; it goes out at acceptance",
                )


def cross_check(contract: Contract, sidecar: Loaded[Acceptance]) -> list[Diagnostic]:
    """Return what the sidecar contradicts in the contract (errors) or weakens (warnings)."""
    checker = _Checker(contract, sidecar)
    checker.identity()
    checker.deploy_window()
    checker.notice_lead()
    return checker.found


def release_problems(
    sidecar: Loaded[Acceptance], environment: Environment, environment_path: Path
) -> list[Diagnostic]:
    """Return an error when the sidecar's image is not a release its environment allows.

    An environment without `releases` allows the sidecar's own image only, so there is
    nothing to check; one that names repositories or digests must allow the sidecar's too.
    """
    policy = environment.releases
    image = sidecar.value.service.image
    if not policy.restricted or policy.allows(image):
        return []
    return [
        Diagnostic(
            Severity.ERROR,
            sidecar.path,
            sidecar.line("service", "image"),
            f"service.image {image!r} is not a release {environment_path.name} allows "
            f"(field releases: {policy.describe()})",
            f"use an image under an allowed repository or pinned by an allowed digest, or add "
            f"it to releases in {environment_path}",
        )
    ]
