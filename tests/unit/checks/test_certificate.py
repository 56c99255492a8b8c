"""Domain/SSL: real certificates from a generated CA, judged against the run's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.checks.certificate import CertificateFiles, Window, hostname_matches, judge_certificate
from handoff.demo_ca import Issued, make_ca, make_server
from handoff.evidence.model import EvidenceStatus

DOMAIN = "ux-portal.demo.test"
NOW = datetime.now(UTC).replace(microsecond=0)
# Deploy in an hour; the monitoring window ends 72 h after it; a 7-day margin on top.
WINDOW = Window(NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=73), timedelta(days=7))


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca(backdate=timedelta(days=60))  # older than every certificate it signs here


def _files(ca: Issued, server: Issued, key_mode: int = 0o100600) -> CertificateFiles:
    return CertificateFiles(ca.cert_pem, server.cert_pem, server.key_pem, key_mode)


def _server(ca: Issued, names: list[str], start: timedelta, end: timedelta) -> Issued:
    return make_server(ca, names, NOW + start, NOW + end)


def test_a_certificate_valid_past_the_window_and_margin_passes(ca: Issued) -> None:
    finding = judge_certificate(
        _files(ca, _server(ca, [DOMAIN], -timedelta(hours=1), timedelta(days=90))), DOMAIN, WINDOW
    )
    assert finding.status is EvidenceStatus.PASSED, finding.summary
    assert "chains to the trusted CA" in finding.summary
    assert finding.thresholds["valid_until"] == WINDOW.must_last_until.isoformat()


def test_expired_inside_the_window_and_wrong_name_each_fail_with_their_reason(ca: Issued) -> None:
    expired = _server(ca, [DOMAIN], -timedelta(days=30), -timedelta(days=1))
    found = judge_certificate(_files(ca, expired), DOMAIN, WINDOW)
    assert found.failed and "expired on" in found.summary
    assert "chain" not in found.summary  # issued by the trusted CA, only out of date

    # Valid now and at deploy time, gone 48 h into the 72 h monitoring window: named by date.
    ends = NOW + timedelta(hours=49)
    inside = _server(ca, [DOMAIN], -timedelta(hours=1), timedelta(hours=49))
    found = judge_certificate(_files(ca, inside), DOMAIN, WINDOW)
    assert found.failed and f"expires on {ends:%Y-%m-%d %H:%M} UTC, inside the window" in (
        found.summary
    )
    # Past the monitoring end but inside the margin: still a failure.
    margin = _server(ca, [DOMAIN], -timedelta(hours=1), timedelta(days=5))
    assert judge_certificate(_files(ca, margin), DOMAIN, WINDOW).failed

    other = _server(ca, ["other.demo.test"], -timedelta(hours=1), timedelta(days=90))
    found = judge_certificate(_files(ca, other), DOMAIN, WINDOW)
    assert found.failed and f"does not name {DOMAIN} (names: other.demo.test)" in found.summary


def test_another_ca_a_foreign_key_and_a_readable_key_file_fail(ca: Issued) -> None:
    server = _server(ca, [DOMAIN], -timedelta(hours=1), timedelta(days=90))
    stranger = make_ca("another CA")
    found = judge_certificate(
        CertificateFiles(stranger.cert_pem, server.cert_pem, server.key_pem, 0o100600),
        DOMAIN,
        WINDOW,
    )
    assert found.failed and "does not verify to the trusted CA" in found.summary
    foreign = CertificateFiles(ca.cert_pem, server.cert_pem, stranger.key_pem, 0o100600)
    assert "key does not match" in judge_certificate(foreign, DOMAIN, WINDOW).summary
    readable = judge_certificate(_files(ca, server, 0o100644), DOMAIN, WINDOW)
    assert readable.failed and "mode 0644, not 0600" in readable.summary
    assert "PRIVATE KEY" not in repr(readable)  # the key never reaches a record


def test_a_wildcard_covers_one_label_only() -> None:
    assert hostname_matches("ux-portal.demo.test", ["*.demo.test"])
    assert not hostname_matches("a.ux-portal.demo.test", ["*.demo.test"])
    assert hostname_matches("UX-Portal.demo.test.", ["ux-portal.demo.test"])
