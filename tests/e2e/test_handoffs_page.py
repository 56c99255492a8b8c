"""The Handoffs page and the deployment report under a real `airflow standalone`.

A run of the e2e handoff whose preflight refuses its settings ends through abort; its
`report` task writes the incident report anyway. The test reads the report through the
app (with a token), follows the task's "Deployment report" extra link, then logs in through
Airflow's own login form in headless Chromium, opens the page from the nav and keeps a
screenshot under build/artifacts/; axe audits the page and the report as served (WCAG 2.1
A/AA and best practice: 0 violations). Without a token, the app refuses every request.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from handoff.checks.accessibility import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import GATE_HANDOFF_ID, Airflow, admin_password
from tests.e2e.test_watch_deferred import run_state, task_state, trigger_run
from tests.support.axe_audit import violations_on
from tests.support.demo import ROOT

pytestmark = pytest.mark.e2e

DAG_ID = "handoff_gate_e2e"
ARTIFACTS = ROOT / "build" / "artifacts"


def dag_parsed(airflow: Airflow) -> bool:
    """Tell whether the API lists the DAG; a slow answer on a loaded machine is a 'not yet'."""
    try:
        answer = airflow.session.get(
            f"{airflow.url}/api/v2/dags", params={"dag_id_pattern": DAG_ID}, timeout=30
        )
    except requests.RequestException:
        return False
    return answer.ok and any(d["dag_id"] == DAG_ID for d in answer.json()["dags"])


@pytest.fixture(scope="module")
def refused_run(airflow: Airflow) -> str:
    """Run the e2e handoff with a deploy time outside its window: preflight fails, abort runs."""
    airflow.wait_for("the handoff DAG to be parsed", lambda: dag_parsed(airflow), 180, every_s=2)
    run_id = trigger_run(airflow, DAG_ID, {"deploy_at": "2031-01-01T00:00:00+00:00"})
    airflow.wait_for(
        "the report task to finish",
        lambda: task_state(airflow, DAG_ID, run_id, "report") in {"success", "failed"},
        240,
        every_s=2,
    )
    airflow.wait_for("the run to end", lambda: run_state(airflow, DAG_ID, run_id) != "running", 60)
    return run_id


def test_unauthenticated_requests_are_refused(airflow: Airflow) -> None:
    anonymous = requests.Session()
    for path in ("/handoffs/", f"/handoffs/reports/{DAG_ID}/any/report.html"):
        answer = anonymous.get(f"{airflow.url}{path}", allow_redirects=False, timeout=30)
        assert answer.status_code in (401, 403), (path, answer.status_code, answer.text[:200])
        assert GATE_HANDOFF_ID not in answer.text
    forged = anonymous.get(
        f"{airflow.url}/handoffs/", headers={"Authorization": "Bearer not.a.jwt"}, timeout=30
    )
    assert forged.status_code in (401, 403)


def test_the_report_task_writes_the_incident_report_and_the_run_still_fails(
    airflow: Airflow, refused_run: str
) -> None:
    assert run_state(airflow, DAG_ID, refused_run) == "failed"
    assert task_state(airflow, DAG_ID, refused_run, "preflight") == "failed"
    assert task_state(airflow, DAG_ID, refused_run, "report") == "success"
    base = f"{airflow.url}/handoffs/reports/{DAG_ID}/{quote(refused_run, safe='')}"
    answer = airflow.session.get(f"{base}/report.json", timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    report = answer.json()
    assert report["header"]["handoff_id"] == GATE_HANDOFF_ID
    assert report["header"]["run_id"] == refused_run
    assert report["outcome"] in {"aborted", "failed"}
    assert "preflight" in report["outcome_detail"]
    tasks = {t["task_id"]: t for step in report["timeline"] for t in step["tasks"]}
    assert tasks["preflight"]["state"] == "failed" and tasks["preflight"]["start"]
    # States of tasks that never ran come from the task SDK (get_task_states), not the timings.
    assert tasks["deploy.start_release"]["state"] == "upstream_failed"
    assert tasks["deploy.start_release"]["start"] is None
    assert tasks["preflight"]["log_url"].startswith(f"{airflow.url}/dags/{DAG_ID}/runs/")
    assert [n["event"] for n in report["notifications"]][:1] == ["ESCALATION"]
    html = airflow.session.get(f"{base}/report.html", timeout=30)
    assert html.status_code == 200 and "<svg" in html.text
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]


def test_every_task_links_to_its_runs_report(airflow: Airflow, refused_run: str) -> None:
    for task_id in ("preflight", "deploy.start_release", "finalize"):
        links = airflow.api(
            "GET", f"/dags/{DAG_ID}/dagRuns/{refused_run}/taskInstances/{task_id}/links"
        )
        url = links["extra_links"]["Deployment report"]
        assert url == (
            f"{airflow.url}/handoffs/reports/{DAG_ID}/{quote(refused_run, safe='')}/report.html"
        )
    answer = airflow.session.get(url, timeout=30)
    assert answer.status_code == 200 and GATE_HANDOFF_ID in answer.text


def test_the_page_in_chromium_after_logging_in(airflow: Airflow, refused_run: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # axe is injected into the pages it audits: the reports' CSP would refuse it.
            page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page.goto(f"{airflow.url}/auth/login", timeout=60_000)
            page.fill('input[name="username"]', "admin")
            page.fill('input[name="password"]', admin_password(Path(airflow.home)))
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
            # The external view: the page inside Airflow's UI, reached from the nav.
            page.goto(f"{airflow.url}/plugin/handoffs", timeout=60_000)
            frame = page.frame_locator("iframe")
            table = frame.locator("#handoffs")
            table.wait_for(timeout=60_000)
            text = table.inner_text()
            assert GATE_HANDOFF_ID in text
            assert "ok" in text and "accepted by" in text and "when triggered" in text
            assert refused_run in text and "failed" in text
            assert frame.locator("a", has_text="html").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "handoffs-page.png"), full_page=True)
            # The report opens from the page, still behind the same login.
            frame.locator("a", has_text="html").first.click()
            frame.locator("h1", has_text="Deployment report").wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "handoffs-report.png"), full_page=True)
            # The page and the report as the app serves them, audited on their own.
            page.goto(f"{airflow.url}/handoffs/", timeout=60_000)
            page.locator("#handoffs").wait_for(timeout=60_000)
            assert violations_on(page) == {}
            report_html = f"{airflow.url}/handoffs/reports/{DAG_ID}/{quote(refused_run, safe='')}"
            page.goto(f"{report_html}/report.html", timeout=60_000)
            page.locator("h1", has_text="Deployment report").wait_for(timeout=30_000)
            assert violations_on(page) == {}
            # A task's log link from the report opens that try's log in Airflow's UI.
            report = airflow.session.get(
                f"{airflow.url}/handoffs/reports/{DAG_ID}/{quote(refused_run, safe='')}"
                "/report.json",
                timeout=30,
            ).json()
            [log_url] = [
                t["log_url"]
                for step in report["timeline"]
                for t in step["tasks"]
                if t["task_id"] == "preflight"
            ]
            page.goto(log_url, timeout=60_000)
            page.get_by_text("run settings rejected").first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "handoffs-task-log.png"))
        finally:
            browser.close()
    assert (ARTIFACTS / "handoffs-page.png").stat().st_size > 10_000
