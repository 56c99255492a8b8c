"""The handoff's monitoring on live: its alert rules in Prometheus, and its criteria verified.

Right after the switch (the `observability` task) the handoff's alert rules are loaded
into Prometheus for the colour made live, a synthetic test alert goes through Alertmanager
to Slack, and each monitoring criterion is verified by what it names
(`handoff.checks.observed`). The rules are removed at handover and after a rollback
(`remove`). None of this ever fails a task: a monitoring problem is evidence, never a
reason to roll back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from handoff.analysis.alert_rules import RuleThresholds
from handoff.analysis.queries import Target
from handoff.catalog import Handoff
from handoff.checks import observed
from handoff.checks.finding import Finding
from handoff.jsonable import to_jsonable
from handoff.tasks import scrape_registration

log = logging.getLogger(__name__)

#: How long verification waits for the first scrapes of a service registered at its deploy.
FIRST_SCRAPE_WAIT_S = 45.0


@dataclass(frozen=True)
class Verified:
    """The monitoring findings of one service on live, and the coverage figure."""

    findings: dict[str, Finding]
    coverage: dict[str, Any]
    rules: dict[str, Any]

    def finding_for(self, criterion: str) -> Finding | None:
        """Return the finding of a monitoring criterion by the words of its name."""
        name = criterion.lower()
        for words, key in (
            (("security",), "security"),
            (("performance",), "performance"),
            (("analytics",), "analytics"),
            (("user",), "analytics"),
            (("error",), "errors"),
            (("tracking",), "errors"),
            (("alert",), "errors"),
            (("application",), "application"),
        ):
            if all(w in name for w in words):
                return self.findings.get(key)
        return None


def _thresholds(handoff: Handoff) -> RuleThresholds:
    assert handoff.plan is not None and handoff.acceptance is not None
    rates = [t for t in handoff.plan.thresholds if t.name == "error rate"]
    error_rate = rates[0].threshold.value / 100 if rates else 0.01
    budgets = {
        e.path: e.p95_ms / 1000 for e in handoff.acceptance.checks.endpoints if e.p95_ms is not None
    }
    return RuleThresholds(error_rate=error_rate, p95_budgets_s=budgets)


def load(handoff: Handoff, colour: str) -> dict[str, Any]:
    """Load the handoff's rules for the live colour; return the evidence or the problem."""
    from handoff.analysis.rule_loader import AlertingError, AlertingSettings, load_rules

    assert handoff.plan is not None and handoff.acceptance is not None
    target = Target(handoff.acceptance.service.name, colour)
    try:
        loaded = load_rules(
            handoff.plan.handoff_id, target, _thresholds(handoff), AlertingSettings.from_env()
        )
    except (AlertingError, OSError, ValueError) as exc:
        log.warning("monitoring: the alert rules could not be loaded: %s", exc)
        return {"problem": str(exc)}
    log.info(
        "monitoring: %s alert rules of %s loaded in Prometheus in %.0f ms (group %s)",
        len(loaded.rules),
        handoff.plan.handoff_id,
        loaded.load_ms,
        loaded.group,
    )
    return to_jsonable(asdict(loaded))  # type: ignore[no-any-return]


def send_test(handoff: Handoff) -> dict[str, Any]:
    """Send a synthetic alert through Alertmanager to Slack; return the evidence."""
    from handoff.analysis.alert_test import send_test_alert
    from handoff.analysis.rule_loader import AlertingError, AlertingSettings

    assert handoff.plan is not None
    try:
        evidence = send_test_alert(handoff.plan.handoff_id, AlertingSettings.from_env())
    except (AlertingError, OSError) as exc:
        return {"delivered": False, "problem": str(exc)}
    return to_jsonable(asdict(evidence))  # type: ignore[no-any-return]


def remove(handoff: Handoff, why: str) -> None:
    """Remove the handoff's alert rules (at handover, after a rollback); never raise."""
    from handoff.analysis.alert_rules import rules_file_name
    from handoff.analysis.rule_loader import AlertingError, AlertingSettings, remove_rules

    assert handoff.plan is not None
    settings = AlertingSettings.from_env()
    if not (settings.rules_dir / rules_file_name(handoff.plan.handoff_id)).exists():
        return  # no rules of this handoff were loaded: nothing to ask Prometheus
    try:
        removed = remove_rules(handoff.plan.handoff_id, settings)
    except (AlertingError, OSError) as exc:
        log.warning("monitoring: the alert rules could not be removed (%s): %s", why, exc)
        return
    log.info("monitoring: alert rules removed (%s) in %.0f ms", why, removed.unload_ms)


def _first_scrapes_in(seen: observed.Observed, live_colour: str, endpoints: list[str]) -> bool:
    """Tell whether Prometheus holds the jobs, latencies and resources judged below.

    Every colour with any resource series is judged, so each must have both: a colour
    started a moment ago has its memory after one scrape but its CPU rate only after two.
    """
    return (
        {"haproxy", "service"} <= seen.up_jobs()
        and set(endpoints) <= seen.tracked_paths()
        and len(seen.resources.get(live_colour, {})) >= 2
        and all(len(r) >= 2 for r in seen.resources.values() if r)
    )


def verify(handoff: Handoff, live_colour: str | None) -> Verified | None:
    """Verify the monitoring criteria from Prometheus; None when it does not watch the service.

    A service Prometheus does not scrape (not registered with the stack, or no stack) keeps
    the watches' "not verified" records: nothing was measured either way.
    """
    assert handoff.acceptance is not None and handoff.environment is not None
    if live_colour is None or handoff.environment.observability is None:
        return None
    service = handoff.acceptance.service.name
    target = Target(service, live_colour)
    endpoints = [e.path for e in handoff.acceptance.checks.endpoints]
    seen = observed.observe(service, target, ("blue", "green"))
    waited = time.monotonic()
    # A service registered at this deploy is scraped within a scrape interval or two, and
    # its rates need two scrapes of each series: wait (bounded) for what is judged below.
    while (
        seen.reachable
        and not _first_scrapes_in(seen, live_colour, endpoints)
        and scrape_registration.is_registered(service)
        and time.monotonic() - waited < FIRST_SCRAPE_WAIT_S
    ):
        time.sleep(2.0)
        seen = observed.observe(service, target, ("blue", "green"))
    if not seen.reachable or not seen.jobs_up:
        log.info(
            "monitoring: Prometheus does not watch %s (%s); the monitoring criteria are left "
            "to the watches",
            service,
            seen.problem or "no job up",
        )
        return None
    rules = load(handoff, live_colour)
    alert = send_test(handoff) if "problem" not in rules else None
    # The live colour always; the other one when it runs (it does until handover).
    colours = sorted({live_colour, *(c for c, r in seen.resources.items() if r)})
    findings = {
        "application": observed.application(seen),
        "errors": observed.error_tracking(rules, alert),
        "performance": observed.performance(seen, endpoints, colours),
        "analytics": observed.user_analytics(seen),
        "security": observed.security(seen, rules),
    }
    figure = observed.coverage(seen)
    log.info(
        "monitoring: coverage %.0f%% of the critical metrics scraped%s",
        figure["percent"],
        f" (missing: {', '.join(figure['missing'])})" if figure["missing"] else "",
    )
    return Verified(findings, figure, rules)
