"""The rule loader's checks, files and errors, and the test alert's reading of Alertmanager.

The happy paths run against the real stack (tests/integration/observability/
test_alert_end_to_end.py); here Prometheus and Alertmanager answer through
``httpx.MockTransport`` so that refusals and silence can be told apart in milliseconds.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from handoff.analysis import alert_test, rule_loader
from handoff.analysis.alert_rules import RuleThresholds, rules_yaml
from handoff.analysis.queries import Target
from handoff.analysis.rule_loader import AlertingError, AlertingSettings, Refused, Unreachable

GREEN = Target("checkout", "green")
THRESHOLDS = RuleThresholds(error_rate=0.05, window_s=30, for_s=30)
Handler = Callable[[httpx.Request], httpx.Response]


def settings(tmp_path: Path, **overrides: Any) -> AlertingSettings:
    base = AlertingSettings(rules_dir=tmp_path / "rules", load_deadline_s=0.5, poll_s=0.01)
    return replace(base, **overrides)


class FakePrometheus:
    """Answers reloads and lists the groups of the files in the rules folder."""

    def __init__(self, folder: Path, refuse: bool = False) -> None:
        self.folder, self.refuse, self.reloads = folder, refuse, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/-/reload":
            self.reloads += 1
            if self.refuse:
                return httpx.Response(500, text="failed to reload config: bad rule\n")
            return httpx.Response(200)
        groups = []
        for path in sorted(self.folder.glob("*.yml")):
            for group in yaml.safe_load(path.read_text())["groups"]:
                rules = [{"name": r["alert"], "query": r["expr"]} for r in group["rules"]]
                groups.append({"name": group["name"], "file": str(path), "rules": rules})
        return httpx.Response(200, json={"status": "success", "data": {"groups": groups}})


def test_load_writes_the_file_atomically_with_its_modes_and_confirms(tmp_path: Path) -> None:
    s = settings(tmp_path)
    fake = FakePrometheus(s.rules_dir)
    transport = httpx.MockTransport(fake)
    loaded = rule_loader.load_rules("PROD-1", GREEN, THRESHOLDS, s, transport=transport)
    path = Path(loaded.file)
    assert path.name == "handoff-PROD-1.yml" and loaded.group == "handoff-PROD-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    assert "HandoffErrorRate" in {r.name for r in loaded.rules} and loaded.rewritten
    again = rule_loader.load_rules("PROD-1", GREEN, THRESHOLDS, s, transport=transport)
    assert not again.rewritten and fake.reloads == 2

    removed = rule_loader.remove_rules("PROD-1", s, transport=transport)
    assert removed.file_removed and not path.exists()
    assert not rule_loader.remove_rules("PROD-1", s, transport=transport).file_removed


def test_a_refused_file_is_taken_back_and_named(tmp_path: Path) -> None:
    s = settings(tmp_path)
    transport = httpx.MockTransport(FakePrometheus(s.rules_dir, refuse=True))
    with pytest.raises(Refused, match=r"handoff-PROD-2\.yml of handoff PROD-2: .*bad rule"):
        rule_loader.load_rules("PROD-2", GREEN, THRESHOLDS, s, transport=transport)
    assert not (s.rules_dir / "handoff-PROD-2.yml").exists()


def test_a_refused_change_restores_the_previous_file(tmp_path: Path) -> None:
    s = settings(tmp_path)
    fake = FakePrometheus(s.rules_dir)
    rule_loader.load_rules("PROD-3", GREEN, THRESHOLDS, s, transport=httpx.MockTransport(fake))
    before = (s.rules_dir / "handoff-PROD-3.yml").read_text()
    fake.refuse = True
    with pytest.raises(Refused):
        changed = RuleThresholds(error_rate=0.02)
        rule_loader.load_rules("PROD-3", GREEN, changed, s, transport=httpx.MockTransport(fake))
    assert (s.rules_dir / "handoff-PROD-3.yml").read_text() == before


def test_unreachable_prometheus_is_a_located_error(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    s = settings(tmp_path, prometheus_url="http://127.0.0.1:1")
    with pytest.raises(Unreachable, match=r"127\.0\.0\.1:1 unreachable .*loads when Prometheus"):
        rule_loader.load_rules("PROD-4", GREEN, THRESHOLDS, s, transport=httpx.MockTransport(down))
    with pytest.raises(Unreachable, match=r"POST /-/reload"):
        rule_loader.remove_rules("PROD-4", s, transport=httpx.MockTransport(down))


def test_a_group_that_never_shows_is_an_error(tmp_path: Path) -> None:
    def empty(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/-/reload":
            return httpx.Response(200)
        return httpx.Response(200, json={"status": "success", "data": {"groups": []}})

    s = settings(tmp_path)
    with pytest.raises(AlertingError, match=r"handoff-PROD-5 not loaded .* 0\.5s after"):
        rule_loader.load_rules("PROD-5", GREEN, THRESHOLDS, s, transport=httpx.MockTransport(empty))


def test_a_missing_lifecycle_api_says_so(tmp_path: Path) -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(403, text="Lifecycle API is not enabled.")
    )
    with pytest.raises(Refused, match="enable-lifecycle"):
        rule_loader.remove_rules("PROD-6", settings(tmp_path), transport=transport)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(extra=1), r"top: expected \{groups"),
        (lambda d: d["groups"][0]["rules"].clear(), r"groups\[0\]\.rules: expected a non-empty"),
        (lambda d: d["groups"][0]["rules"][0].update(alert="a-b"), r"rules\[0\]\.alert"),
        (lambda d: d["groups"][0]["rules"][1].update(**{"for": "soon"}), r"rules\[1\]\.for"),
        (lambda d: d["groups"][0]["rules"][0]["labels"].update(x=1), r"rules\[0\]\.labels"),
        (lambda d: d["groups"][0]["rules"][0].update(expr=" "), r"rules\[0\]\.expr"),
    ],
)
def test_structural_check_names_the_place(edit: Callable[[Any], Any], message: str) -> None:
    document = yaml.safe_load(rules_yaml("PROD-7", GREEN, THRESHOLDS))
    edit(document)
    with pytest.raises(AlertingError, match=rf"^f\.yml: .*{message}"):
        rule_loader.validate_rules(json.dumps(document), "f.yml")


def test_generated_rules_pass_the_structural_check() -> None:
    names = rule_loader.validate_rules(rules_yaml("PROD-8", GREEN, THRESHOLDS), "f.yml")
    assert names[0] == "HandoffErrorRate" and len(names) == 5


METRICS = """# HELP alertmanager_notifications_total The total number of attempted notifications.
alertmanager_notifications_total{integration="email"} 9
alertmanager_notifications_total{integration="slack"} {sent}
alertmanager_notifications_failed_total{integration="slack"} 0
alertmanager_notification_requests_total{integration="slack"} {requests}
alertmanager_notification_requests_failed_total{integration="slack"} {failed}
"""


class FakeAlertmanager:
    """Counts a delivery (or a failed request) at the metrics read after an alert arrives."""

    def __init__(self, deliver: bool) -> None:
        self.deliver, self.alerts, self.reads = deliver, [], 0
        self.requests = self.failed = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/alerts":
            self.alerts.append(json.loads(request.content))
            return httpx.Response(200)
        if self.alerts:
            self.requests += 1
            self.failed += 0 if self.deliver else 1
        text = (
            METRICS.replace("{sent}", str(len(self.alerts)))
            .replace("{requests}", str(self.requests))
            .replace("{failed}", str(self.failed))
        )
        return httpx.Response(200, text=text)


def test_test_alert_is_delivered_then_resolved(tmp_path: Path) -> None:
    fake = FakeAlertmanager(deliver=True)
    s = settings(tmp_path)
    evidence = alert_test.send_test_alert("PROD-9", s, transport=httpx.MockTransport(fake))
    assert evidence.delivered and evidence.notified_after_ms is not None
    assert evidence.after.delivered() == 1 and evidence.before.delivered() == 0
    (firing,), (resolved,) = fake.alerts
    assert firing["labels"] == resolved["labels"] == evidence.labels
    assert firing["labels"]["handoff"] == "PROD-9"
    assert firing["endsAt"] > firing["startsAt"] and resolved["endsAt"] == evidence.resolved_at


def test_test_alert_not_delivered_is_evidence_not_an_exception(tmp_path: Path) -> None:
    fake = FakeAlertmanager(deliver=False)
    s = settings(tmp_path, notify_deadline_s=0.1)
    evidence = alert_test.send_test_alert("PROD-10", s, transport=httpx.MockTransport(fake))
    assert not evidence.delivered and "refused or unanswered" in evidence.problem
    assert len(fake.alerts) == 2  # resolved all the same


def test_test_alert_refused_or_unreachable_raises(tmp_path: Path) -> None:
    refusing = httpx.MockTransport(
        lambda r: httpx.Response(400, text="bad") if r.method == "POST" else httpx.Response(200)
    )
    with pytest.raises(Refused, match="refused the test alert: HTTP 400"):
        alert_test.send_test_alert("PROD-11", settings(tmp_path), transport=refusing)
    with pytest.raises(AlertingError, match="cannot be an alert label"):
        alert_test.send_test_alert("bad id", settings(tmp_path), transport=refusing)
