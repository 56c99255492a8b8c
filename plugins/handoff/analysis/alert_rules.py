"""Prometheus alerting rules for one handoff, from its thresholds (YAML by a serializer).

One group per handoff, ``handoff-<id>``:

- ``HandoffErrorRate``: the live colour's 5xx share above the contract's error rate;
- ``HandoffLatencyP95``: one rule per path with a budget, its p95 above the budget;
- ``HandoffErrorBudgetBurnFast`` / ``...Slow``: the multi-window, multi-burn-rate alerts of
  the Google SRE workbook (chapter "Alerting on SLOs"): the error budget (the allowed error
  rate) burning 14.4 times too fast over 1 h and 5 m, or 6 times over 6 h and 30 m; the
  short window makes the alert stop soon after the burning does;
- ``HandoffAuthFailures`` / ``HandoffRefusedRequests``: the security rule.

Every name and label value is checked before it is written (alert annotations are Go
templates, so a ``{{`` in a value would run); the file is ``yaml.safe_dump`` of a dict, never
text pasted together, and ``promtool check rules`` accepts it (integration test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from handoff.analysis import queries
from handoff.analysis.promql import duration
from handoff.analysis.queries import Target

#: Handoff ids, services and colours as rule groups, labels and file names carry them.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
#: Alert names: Prometheus' metric-name rule, without colons.
ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
#: URL paths with a latency budget: plain characters only (they go into annotations).
PATH = re.compile(r"^/[A-Za-z0-9_./-]{0,200}$")
#: (long window, short window, burn-rate factor, severity, for) from the SRE workbook.
BURN_RATE_WINDOWS = (
    ("Fast", 3600, 300, 14.4, "page"),
    ("Slow", 21600, 1800, 6.0, "page"),
)


class RuleError(ValueError):
    """A value that cannot be written into an alerting rule."""


def _checked(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise RuleError(f"{what} {value!r} cannot be written into an alert rule")
    return value


@dataclass(frozen=True)
class RuleThresholds:
    """A handoff's thresholds, as the alerts judge them.

    Parameters: ``error_rate`` (the allowed 5xx share, also the error budget), ``p95_budgets_s``
    (path -> seconds), ``auth_failures_per_s`` and ``refused_per_s`` (the security rule),
    ``window_s`` (the rate window of the plain rules), ``for_s`` (how long a condition must
    hold before the alert fires).
    """

    error_rate: float = 0.01
    p95_budgets_s: dict[str, float] = field(default_factory=dict)
    auth_failures_per_s: float = 1.0
    refused_per_s: float = 5.0
    window_s: int = 60
    for_s: int = 60

    def __post_init__(self) -> None:
        if not 0 < self.error_rate < 1:
            raise RuleError(f"error rate {self.error_rate!r}: expected a fraction in (0, 1)")
        for path, budget in self.p95_budgets_s.items():
            _checked(path, PATH, "path")
            if not budget > 0:
                raise RuleError(f"p95 budget of {path}: {budget!r} must be positive")
        if min(self.auth_failures_per_s, self.refused_per_s) <= 0:
            raise RuleError("security thresholds must be positive")


def _rule(
    alert: str, expr: str, for_s: int, labels: dict[str, str], summary: str
) -> dict[str, Any]:
    return {
        "alert": _checked(alert, ALERT_NAME, "alert name"),
        "expr": expr,
        "for": duration(for_s),
        "labels": labels,
        "annotations": {"summary": summary},
    }


def rule_group(handoff_id: str, target: Target, thresholds: RuleThresholds) -> dict[str, Any]:
    """Return the handoff's rule group as data (what ``rules_yaml`` writes)."""
    _checked(handoff_id, NAME, "handoff id")
    _checked(target.service, NAME, "service")
    _checked(target.colour, NAME, "colour")
    t = thresholds
    labels = {"handoff": handoff_id, "service": target.service, "colour": target.colour}
    who = f"{target.service} ({target.colour}, handoff {handoff_id})"
    rules = [
        _rule(
            "HandoffErrorRate",
            f"{queries.router_error_rate(target, t.window_s).promql} > {t.error_rate:g}",
            t.for_s,
            labels | {"severity": "page"},
            f"{who}: 5xx share above {t.error_rate:.2%} over {t.window_s}s",
        )
    ]
    for path, budget in sorted(t.p95_budgets_s.items()):
        query = queries.latency_quantile(target, t.window_s, path).promql
        rules.append(
            _rule(
                "HandoffLatencyP95",
                f"{query} > {budget:g}",
                t.for_s,
                labels | {"severity": "page", "path": path},
                f"{who}: p95 latency of {path} above {budget * 1000:g} ms",
            )
        )
    for speed, long_s, short_s, factor, severity in BURN_RATE_WINDOWS:
        burn = factor * t.error_rate
        long_q = queries.router_error_rate(target, long_s).promql
        short_q = queries.router_error_rate(target, short_s).promql
        rules.append(
            _rule(
                f"HandoffErrorBudgetBurn{speed}",
                f"({long_q} > {burn:g}) and ({short_q} > {burn:g})",
                min(t.for_s, 120),
                labels | {"severity": severity, "burn_rate": f"{factor:g}"},
                f"{who}: error budget burning {factor:g}x too fast over "
                f"{long_s // 60}m and {short_s // 60}m",
            )
        )
    auth = queries.auth_failures(target, t.window_s).promql
    refused = queries.refused_requests(target, t.window_s).promql
    rules += [
        _rule(
            "HandoffAuthFailures",
            f"{auth} / {t.window_s} > {t.auth_failures_per_s:g}",
            t.for_s,
            labels | {"severity": "security"},
            f"{who}: authentication failures above {t.auth_failures_per_s:g}/s",
        ),
        _rule(
            "HandoffRefusedRequests",
            f"{refused} / {t.window_s} > {t.refused_per_s:g}",
            t.for_s,
            labels | {"severity": "security"},
            f"{who}: refused requests above {t.refused_per_s:g}/s",
        ),
    ]
    return {"name": f"handoff-{handoff_id}", "rules": rules}


def rules_yaml(handoff_id: str, target: Target, thresholds: RuleThresholds) -> str:
    """Return the rules file of one handoff (``groups:`` with its one group)."""
    document = {"groups": [rule_group(handoff_id, target, thresholds)]}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=1000)


def rules_file_name(handoff_id: str) -> str:
    """Return the file name the handoff's rules are loaded under (Prometheus' rules/*.yml)."""
    return f"handoff-{_checked(handoff_id, NAME, 'handoff id')}.yml"
