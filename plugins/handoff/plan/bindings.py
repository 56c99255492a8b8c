"""Bind each acceptance criterion to the automatic check that produces its evidence.

The rules read the criterion's name first, then its text; the first rule that matches wins,
so specific rules ("security monitoring") come before general ones ("security"). A criterion
no rule matches is bound to NOT_VERIFIED: the report will say so, never "passed".
"""

from __future__ import annotations

from handoff.acceptance import Acceptance
from handoff.contract.model import Criterion
from handoff.contract.sections import classify
from handoff.plan.model import CheckBinding, CheckKind, CheckPhase

_RULES: list[tuple[tuple[str, ...], CheckKind]] = [
    (("zero", "downtime"), CheckKind.ZERO_DOWNTIME),
    (("downtime",), CheckKind.ZERO_DOWNTIME),
    (("blue", "green"), CheckKind.ZERO_DOWNTIME),
    (("security", "monitoring"), CheckKind.MONITORING),
    (("performance", "monitoring"), CheckKind.MONITORING),
    (("monitoring",), CheckKind.MONITORING),
    (("tracking",), CheckKind.MONITORING),
    (("analytics",), CheckKind.MONITORING),
    (("observability",), CheckKind.MONITORING),
    (("alerting",), CheckKind.MONITORING),
    (("health",), CheckKind.HEALTH),
    (("performance",), CheckKind.PERFORMANCE),
    (("latency",), CheckKind.PERFORMANCE),
    (("security",), CheckKind.SECURITY),
    (("vulnerab",), CheckKind.SECURITY),
    (("accessibility",), CheckKind.ACCESSIBILITY),
    (("wcag",), CheckKind.ACCESSIBILITY),
    (("user", "acceptance"), CheckKind.SMOKE),
    (("smoke",), CheckKind.SMOKE),
    (("functional",), CheckKind.SMOKE),
    (("journey",), CheckKind.SMOKE),
    (("rollback",), CheckKind.ROLLBACK_READINESS),
    (("data", "integrity"), CheckKind.DATA_INTEGRITY),
    (("configuration",), CheckKind.CONFIGURATION),
    (("communication",), CheckKind.COMMUNICATION),
    (("notification",), CheckKind.COMMUNICATION),
]

PHASES: dict[CheckKind, tuple[CheckPhase, ...]] = {
    CheckKind.ZERO_DOWNTIME: (CheckPhase.SWITCH,),
    CheckKind.HEALTH: (CheckPhase.PRE_SWITCH, CheckPhase.POST_SWITCH),
    CheckKind.PERFORMANCE: (CheckPhase.PRE_SWITCH,),
    CheckKind.SECURITY: (CheckPhase.PRE_SWITCH,),
    CheckKind.ACCESSIBILITY: (CheckPhase.PRE_SWITCH,),
    CheckKind.SMOKE: (CheckPhase.PRE_SWITCH, CheckPhase.POST_SWITCH),
    CheckKind.MONITORING: (CheckPhase.WATCH,),
    CheckKind.ROLLBACK_READINESS: (CheckPhase.POST_SWITCH,),
    CheckKind.DATA_INTEGRITY: (CheckPhase.POST_SWITCH,),
    CheckKind.CONFIGURATION: (CheckPhase.PREFLIGHT,),
    CheckKind.COMMUNICATION: (CheckPhase.WHOLE_RUN,),
    CheckKind.NOT_VERIFIED: (),
}


def check_kind(criterion: Criterion) -> CheckKind:
    """Return the check a criterion is bound to: by its name, else by its text."""
    by_name = classify(criterion.name, _RULES, CheckKind.NOT_VERIFIED)
    if by_name is not CheckKind.NOT_VERIFIED:
        return by_name
    return classify(criterion.text, _RULES, CheckKind.NOT_VERIFIED)


def missing_settings(kind: CheckKind, acceptance: Acceptance | None) -> str:
    """Return why a bound check will have nothing to measure, or ''."""
    if acceptance is None:
        return ""
    checks = acceptance.checks
    if kind is CheckKind.PERFORMANCE and not checks.endpoints:
        return "no endpoints with p95 budgets in the sidecar: will be reported not verified"
    if kind is CheckKind.ACCESSIBILITY and not checks.pages:
        return "no pages to audit in the sidecar: will be reported not verified"
    if kind is CheckKind.SMOKE and not checks.journeys:
        return "no smoke journeys in the sidecar: will be reported not verified"
    if kind is CheckKind.DATA_INTEGRITY and not checks.data_integrity.verified:
        return (
            "neither checks.data_integrity.write_probe: store_api nor an integrity command "
            "in the sidecar: will be reported not verified"
        )
    return ""


def bind_checks(
    criteria: tuple[Criterion, ...], acceptance: Acceptance | None
) -> tuple[CheckBinding, ...]:
    """Bind every criterion to its check, noting checks that lack settings."""
    bindings = []
    for criterion in criteria:
        kind = check_kind(criterion)
        note = (
            "no automatic check matches this criterion"
            if kind is CheckKind.NOT_VERIFIED
            else missing_settings(kind, acceptance)
        )
        bindings.append(CheckBinding(criterion, kind, PHASES[kind], note))
    return tuple(bindings)
