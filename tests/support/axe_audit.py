"""Audit a page with axe-core in Debian's headless Chromium: WCAG 2.1 A/AA and best practice.

The accessibility gate (handoff.checks.accessibility) audits a release's pages with the
WCAG 2.1 A/AA rules; the project's own pages are held to those and to axe's best-practice
rules as well (landmarks, regions, one main heading).
"""

from __future__ import annotations

from typing import Any

from handoff.checks.accessibility import CHROMIUM, CHROMIUM_ARGS, WCAG_21_AA

OWN_PAGE_TAGS = [*WCAG_21_AA, "best-practice"]
OPTIONS = {"runOnly": {"type": "tag", "values": OWN_PAGE_TAGS}, "resultTypes": ["violations"]}


def violations_on(page: Any) -> dict[str, list[str]]:
    """Return axe's violations on an open Playwright page: rule id -> elements (CSS targets)."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    response = Axe().run(page, options=OPTIONS).response
    return {
        v["id"]: [" ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])]
        for v in response["violations"]
    }


def audit_html(html: str) -> dict[str, list[str]]:
    """Return axe's violations on a self-contained HTML page, loaded in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            return violations_on(page)
        finally:
            browser.close()
