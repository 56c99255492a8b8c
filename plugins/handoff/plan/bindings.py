"""Bind each acceptance criterion to the automatic check that produces its evidence.

The rules come from the registry of checks (`handoff.checks.registry`): each kind declares
its criterion words with a priority. They read the criterion's name first, then its text;
the first rule that matches wins, so specific rules ("security monitoring") come before
general ones ("security"). A criterion no rule matches is bound to NOT_VERIFIED: the report
will say so, never "passed".
"""

from __future__ import annotations

from handoff.acceptance import Acceptance
from handoff.checks.registry import RULES, spec_of
from handoff.contract.model import Criterion
from handoff.contract.sections import classify
from handoff.plan.model import CheckBinding, CheckKind, CheckPhase


def phases_of(kind: CheckKind) -> tuple[CheckPhase, ...]:
    """Return when a kind of check runs (none for NOT_VERIFIED)."""
    spec = spec_of(kind)
    return spec.phases if spec else ()


def kind_named(name: str) -> CheckKind | None:
    """Return the check kind a sidecar binding names (``monitoring``, ``smoke`` ...), or None."""
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    return CheckKind.__members__.get(key)


def bindable_names() -> list[str]:
    """Return the names a sidecar binding may use."""
    return [k.name.lower() for k in CheckKind]


def check_kind(criterion: Criterion) -> CheckKind:
    """Return the check a criterion is bound to: by its name, else by its text."""
    by_name = classify(criterion.name, RULES, CheckKind.NOT_VERIFIED)
    if by_name is not CheckKind.NOT_VERIFIED:
        return by_name
    return classify(criterion.text, RULES, CheckKind.NOT_VERIFIED)


def missing_settings(kind: CheckKind, acceptance: Acceptance | None) -> str:
    """Return why a bound check will have nothing to measure, or ''."""
    spec = spec_of(kind)
    if acceptance is None or spec is None:
        return ""
    return spec.missing(acceptance)


def bind_checks(
    criteria: tuple[Criterion, ...], acceptance: Acceptance | None
) -> tuple[CheckBinding, ...]:
    """Bind every criterion to its check, noting checks that lack settings."""
    bindings = []
    explicit = acceptance.bindings if acceptance is not None else {}
    for criterion in criteria:
        named = kind_named(explicit[criterion.name]) if criterion.name in explicit else None
        kind = named or check_kind(criterion)
        note = (
            "no automatic check matches this criterion"
            if kind is CheckKind.NOT_VERIFIED
            else missing_settings(kind, acceptance)
        )
        if named is not None:
            note = "; ".join(n for n in ("bound in the sidecar", note) if n)
        bindings.append(CheckBinding(criterion, kind, phases_of(kind), note))
    return tuple(bindings)
