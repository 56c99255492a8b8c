"""Accessibility decisions: no more violations than the old colour, nor a configured max."""

from __future__ import annotations

from handoff.checks.accessibility import PageResult, judge
from handoff.evidence import EvidenceStatus


def page(**rules: int) -> PageResult:
    return PageResult("http://127.0.0.1/", {k.replace("_", "-"): v for k, v in rules.items()})


def test_no_more_violations_than_the_old_colour_passes() -> None:
    finding = judge("/", page(color_contrast=2), page(color_contrast=2), None)
    assert finding.status is EvidenceStatus.PASSED
    assert finding.summary == (
        "/: 2 WCAG 2.1 A/AA violations (color-contrast x2) <= the old colour's 2"
    )


def test_more_violations_than_the_old_colour_fails_with_the_rules_named() -> None:
    finding = judge("/", page(image_alt=1), page(), None)
    assert finding.failed
    assert finding.summary == "/: 1 WCAG 2.1 A/AA violations (image-alt x1) > the old colour's 0"
    assert finding.measured["rules"] == {"image-alt": 1}
    assert finding.thresholds["old_colour_violations"] == 0


def test_configured_maximum_applies_even_when_the_old_colour_was_worse() -> None:
    finding = judge("/", page(image_alt=1), page(image_alt=3), 0)
    assert finding.failed and "> the configured maximum 0" in finding.summary
    assert judge("/", page(), page(image_alt=3), 0).status is EvidenceStatus.PASSED


def test_without_an_old_colour_the_limit_is_zero() -> None:
    assert judge("/", page(image_alt=1), None, None).failed
    assert judge("/", page(), None, None).status is EvidenceStatus.PASSED


def test_a_page_that_cannot_be_audited_fails() -> None:
    broken = PageResult("http://127.0.0.1/x", {}, "HTTP 404")
    finding = judge("/x", broken, page(), None)
    assert finding.failed and "could not be audited: HTTP 404" in finding.summary


def test_an_old_colour_that_could_not_be_audited_is_not_a_reference() -> None:
    old = PageResult("http://127.0.0.1/", {}, "HTTP 500")
    finding = judge("/", page(image_alt=1), old, None)
    assert finding.failed and "0 with no old colour" in finding.summary
