"""Accessibility: axe-core's WCAG 2.1 A/AA rules in Debian's headless Chromium.

The release's pages are audited through the preview listener and the old colour's through
the live one, in the same browser, so "maintained" means: no more violations than the old
colour had (and no more than a configured maximum, when the sidecar sets one). Playwright
drives /usr/bin/chromium; it never downloads a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handoff.acceptance.sidecar import AccessibilitySettings, PageAudit
from handoff.checks.finding import Finding
from handoff.checks.kinds import CheckKind, CheckPhase
from handoff.checks.spec import CheckSpec, Gate, Rule, SidecarSettings, needs
from handoff.evidence.model import EvidenceStatus

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class PageResult:
    """axe's violations on one page: nodes in violation per rule id, or why it was not audited."""

    url: str
    rules: dict[str, int]
    error: str | None = None

    @property
    def violations(self) -> int:
        """Return the number of elements in violation, over all rules."""
        return sum(self.rules.values())


def audit(urls: Sequence[str], timeout_s: float = 30.0) -> list[PageResult]:
    """Audit each URL with axe-core's WCAG 2.1 A/AA rules in one headless Chromium."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for url in urls:
                page = browser.new_page()
                try:
                    answer = page.goto(url, timeout=timeout_s * 1000, wait_until="load")
                    if answer is None or answer.status >= 400:
                        status = answer.status if answer else "no answer"
                        results.append(PageResult(url, {}, f"HTTP {status}"))
                        continue
                    response = axe.run(page, options=options).response
                    rules = {v["id"]: len(v.get("nodes", [])) for v in response["violations"]}
                    results.append(PageResult(url, rules))
                except PlaywrightError as exc:
                    results.append(PageResult(url, {}, str(exc).splitlines()[0]))
                finally:
                    page.close()
        finally:
            browser.close()
    return results


def judge(
    path: str, release: PageResult, old: PageResult | None, max_violations: int | None
) -> Finding:
    """Decide one page: no more violations than the old colour, nor than a configured max."""
    thresholds: dict[str, object] = {
        "rules": "axe-core " + ", ".join(WCAG_21_AA),
        "old_colour_violations": old.violations if old and not old.error else None,
        "max_violations": max_violations,
    }
    measured: dict[str, object] = {
        "path": path,
        "violations": release.violations,
        "rules": release.rules,
        "old_violations": old.violations if old and not old.error else None,
        "old_rules": old.rules if old and not old.error else None,
    }
    if release.error:
        return Finding(
            EvidenceStatus.FAILED,
            f"{path} could not be audited: {release.error}",
            measured,
            thresholds,
        )
    limits = []
    if old is not None and not old.error:
        limits.append(("the old colour's", old.violations))
    if max_violations is not None:
        limits.append(("the configured maximum", max_violations))
    if not limits:
        limits.append(("0 with no old colour to compare with", 0))
    broken = [f"> {name} {limit}" for name, limit in limits if release.violations > limit]
    kept = [f"<= {name} {limit}" for name, limit in limits if release.violations <= limit]
    rules = ", ".join(f"{rule} x{n}" for rule, n in sorted(release.rules.items())) or "none"
    summary = f"{path}: {release.violations} WCAG 2.1 A/AA violations ({rules}) " + ", ".join(
        broken or kept
    )
    return Finding(
        EvidenceStatus.FAILED if broken else EvidenceStatus.PASSED, summary, measured, thresholds
    )


SPEC = CheckSpec(
    kind=CheckKind.ACCESSIBILITY,
    rules=(Rule(160, ("accessibility",)), Rule(170, ("wcag",))),
    phases=(CheckPhase.PRE_SWITCH,),
    settings=(
        SidecarSettings("pages", PageAudit, many=True),
        SidecarSettings("accessibility", AccessibilitySettings),
    ),
    missing=needs(lambda acceptance: acceptance.checks.pages, "no pages to audit in the sidecar"),
    gates=(
        Gate(
            CheckPhase.PRE_SWITCH, "accessibility", "handoff.tasks.check_gates:accessibility_gate"
        ),
    ),
)
