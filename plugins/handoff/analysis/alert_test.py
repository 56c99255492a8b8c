"""A synthetic alert through Alertmanager to Slack and back: the Error Tracking evidence.

``send_test_alert`` posts one alert with the handoff's labels to Alertmanager's v2 API,
waits (bounded) until Alertmanager's own counters show a Slack notification sent and
answered, then resolves the alert (``endsAt`` now; the resolved message follows one group
interval later). Alertmanager's counters are the proof because they count what its Slack
integration did, answer included. In 0.25, ``alertmanager_notifications_total`` counts
notifications and ``..._failed_total`` those given up after every retry;
``alertmanager_notification_requests_total`` and ``..._failed_total`` count each request and
each refused or unanswered one: a request that did not fail is a delivery.

The counters are per integration, not per alert: a notification of another alert sent in the
same seconds counts too. The evidence says so by giving the counts before and after.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from handoff.analysis.alert_rules import NAME
from handoff.analysis.rule_loader import AlertingError, AlertingSettings, Refused, Unreachable

log = logging.getLogger(__name__)

TEST_ALERT = "HandoffTestAlert"
INTEGRATION = "slack"
#: ``alertmanager_notification_requests_total{integration="slack"} 3`` and the like.
SAMPLE = re.compile(
    r"^alertmanager_(?P<name>notifications|notifications_failed|notification_requests"
    r"|notification_requests_failed)_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$"
)


@dataclass(frozen=True)
class Counts:
    """Alertmanager's Slack counters so far: notifications, and the requests they made."""

    notifications: float = 0.0
    notifications_failed: float = 0.0
    requests: float = 0.0
    requests_failed: float = 0.0

    def delivered(self) -> float:
        """Return the requests Slack's webhook answered with success."""
        return self.requests - self.requests_failed


@dataclass(frozen=True)
class TestAlertEvidence:
    """What the test alert did: its labels, when it was posted, notified and resolved.

    ``delivered`` is True when Alertmanager counted a Slack notification and no failure
    within ``notify_deadline_s``; ``problem`` says what went wrong otherwise.
    """

    handoff_id: str
    alertname: str
    labels: dict[str, str]
    alertmanager_url: str
    posted_at: str
    delivered: bool
    notified_after_ms: float | None
    before: Counts
    after: Counts
    resolved_at: str
    problem: str = ""

    __test__ = False  # not a pytest class, whatever its name says


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def slack_counts(text: str) -> Counts:
    """Return the Slack integration's notification counters from Alertmanager's /metrics."""
    keys = ("notifications", "notifications_failed", "requests", "requests_failed")
    found = dict.fromkeys(keys, 0.0)
    for line in text.splitlines():
        match = SAMPLE.match(line.strip())
        if match and f'integration="{INTEGRATION}"' in match["labels"]:
            found[match["name"].replace("notification_requests", "requests")] += float(
                match["value"]
            )
    return Counts(**found)


class _Alertmanager:
    """The two calls made: read the counters, post alerts."""

    def __init__(self, settings: AlertingSettings, transport: httpx.BaseTransport | None) -> None:
        self.url = settings.alertmanager_url
        self.client = settings.client(self.url, transport)

    def counts(self) -> Counts:
        try:
            answer = self.client.get("/metrics")
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"Alertmanager at {self.url} unreachable for GET /metrics ({type(exc).__name__})"
            ) from exc
        if answer.status_code != 200:
            raise Refused(f"Alertmanager at {self.url}: GET /metrics: HTTP {answer.status_code}")
        return slack_counts(answer.text)

    def post(self, alert: Mapping[str, object]) -> None:
        try:
            answer = self.client.post("/api/v2/alerts", json=[dict(alert)])
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"Alertmanager at {self.url} unreachable for POST /api/v2/alerts "
                f"({type(exc).__name__})"
            ) from exc
        if answer.status_code != 200:
            raise Refused(
                f"Alertmanager at {self.url} refused the test alert: HTTP {answer.status_code}: "
                f"{answer.text.strip()[:300]}"
            )


def send_test_alert(
    handoff_id: str,
    settings: AlertingSettings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> TestAlertEvidence:
    """Post a synthetic alert for the handoff, wait for its Slack notification, resolve it.

    Raises AlertingError when Alertmanager is unreachable or refuses the alert; a
    notification that fails or does not come in time is evidence (``delivered`` False).
    """
    if not NAME.fullmatch(handoff_id):
        raise AlertingError(f"handoff id {handoff_id!r} cannot be an alert label")
    alertmanager = _Alertmanager(settings, transport)
    labels = {
        "alertname": TEST_ALERT,
        "handoff": handoff_id,
        "severity": "info",
        "check": "error-tracking",
        "test_id": uuid.uuid4().hex[:12],  # a new alert each time, never deduplicated
    }
    annotations = {
        "summary": f"Test alert of handoff {handoff_id}: the alerting path to Slack works"
    }
    try:
        before = alertmanager.counts()
        posted = _now()
        # Firing until resolved below; the bound makes it end even if this process dies.
        ends = posted + timedelta(seconds=settings.notify_deadline_s + 60)
        alert = {"labels": labels, "annotations": annotations, "startsAt": _iso(posted)}
        alertmanager.post(alert | {"endsAt": _iso(ends)})
        started = time.monotonic()
        after, notified_ms, problem = before, None, ""
        while True:
            after = alertmanager.counts()
            if after.delivered() > before.delivered():
                notified_ms = round((time.monotonic() - started) * 1000, 1)
                break
            if time.monotonic() - started > settings.notify_deadline_s:
                # Deadline only: a given-up or failed request may be another alert's.
                problem = (
                    f"no Slack notification delivered within {settings.notify_deadline_s:g}s; "
                    f"{after.requests_failed - before.requests_failed:g} request(s) to the "
                    "webhook refused or unanswered meanwhile"
                )
                break
            time.sleep(settings.poll_s)
        resolved = _now()
        alertmanager.post(alert | {"endsAt": _iso(resolved)})
    finally:
        alertmanager.client.close()
    evidence = TestAlertEvidence(
        handoff_id=handoff_id,
        alertname=TEST_ALERT,
        labels=labels,
        alertmanager_url=settings.alertmanager_url,
        posted_at=_iso(posted),
        delivered=not problem,
        notified_after_ms=notified_ms,
        before=before,
        after=after,
        resolved_at=_iso(resolved),
        problem=problem,
    )
    if problem:
        log.warning("test alert of %s: not delivered: %s", handoff_id, problem)
    else:
        log.info(
            "test alert of %s: Slack notification counted by Alertmanager after %.0f ms "
            "(delivered requests %g -> %g, failed requests %g -> %g); resolved at %s",
            handoff_id,
            notified_ms,
            before.delivered(),
            after.delivered(),
            before.requests_failed,
            after.requests_failed,
            evidence.resolved_at,
        )
    return evidence
