"""The handoff page under a real `airflow standalone`, in headless Chromium: one screenshot per
state of a run, an axe audit of each (WCAG 2.1 A/AA and best practice: 0 violations), and the
page's own requests per minute.

The states come cheaply: the console handoff's DAG stays paused, so the run the test creates
never starts, and the test writes the records the page reads into that run's folder with the
project's own writers (task timings, the watch window's status file, a drift claim), as the
tasks and the triggerer would. Airflow serves the page, behind its login, from its database
and those files; the environment is not observed, so the page says it has no charts (the
unit tests render them). Screenshots go to build/artifacts/console/ (git-ignored).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, Request, sync_playwright

from handoff.catalog import load_handoff
from handoff.checks.accessibility import CHROMIUM, CHROMIUM_ARGS
from handoff.evidence.store import report_dir_of, run_dir
from handoff.plan.graph import ROLLBACK_TASK, SWITCH_TASK, WAIT_TASK, WATCH_TASKS, build_graph
from handoff.report.timings import record_end, record_start
from handoff.runtime.drift import Drift, claim
from handoff.watch.trigger import write_status
from tests.e2e.conftest import CONSOLE_HANDOFF_ID, Airflow, admin_password
from tests.support.axe_audit import violations_on
from tests.support.demo import ROOT

pytestmark = pytest.mark.e2e

DAG_ID = "handoff_console_e2e"
SEED_DAG = "handoff_prod_deployment_001"
ARTIFACTS = ROOT / "build" / "artifacts" / "console"
REFRESH_S = 5  # the page's shortest interval, so the measurement takes seconds, not minutes
COUNT_FOR_S = 12


@pytest.fixture(scope="module")
def page(airflow: Airflow) -> Iterator[Page]:
    """A Chromium page logged in to Airflow through its own login form."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(f"{airflow.url}/auth/login", timeout=60_000)
            page.fill('input[name="username"]', "admin")
            page.fill('input[name="password"]', admin_password(Path(airflow.home)))
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
            yield page
        finally:
            browser.close()


def parsed(airflow: Airflow) -> bool:
    dags = airflow.api("GET", "/dags", params={"dag_id_pattern": DAG_ID})["dags"]
    return any(d["dag_id"] == DAG_ID for d in dags)


class Run:
    """The console run's folder and the records a state writes into it."""

    def __init__(self, folder: Path, task_ids: list[str]) -> None:
        self.folder = folder
        self.task_ids = task_ids
        self.t0 = datetime.now(UTC)

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    def done(self, task_id: str, start: float, end: float, state: str = "success") -> None:
        record_start(self.folder, task_id, 1, self.at(start))
        record_end(self.folder, task_id, 1, self.at(end), state)

    def through(self, last: str, state: str = "success") -> None:
        """Record every task of the timeline up to ``last`` (excluded) as ended."""
        for index, task_id in enumerate(self.task_ids[: self.task_ids.index(last)]):
            self.done(task_id, index, index + 0.8, state)

    def window(self, task_id: str, state: str, left_s: float, alerts: list[str]) -> None:
        status = {
            "window": task_id.split(".")[0].replace("_", " "),
            "state": state,
            "end_at": (datetime.now(UTC) + timedelta(seconds=left_s)).isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            "analyses": [
                {"metric": "router_error_rate", "status": "breach" if alerts else "passed",
                 "condition": "< 0.01", "last": {"value": 0.07 if alerts else 0.0}},
            ],
            "alerts": [{"name": a, "labels": {"severity": "page"}} for a in alerts],
        }  # fmt: skip
        (self.folder / "watch").mkdir(parents=True, exist_ok=True)
        write_status(self.folder / "watch" / f"{task_id}.json", status)


def show(page: Page, airflow: Airflow, name: str, phase: str, dag_id: str = DAG_ID) -> str:
    """Open the handoff page, check its headline and axe, keep a screenshot; return its text."""
    page.goto(f"{airflow.url}/handoffs/{dag_id}", timeout=60_000)
    headline = page.locator("#status .phase")
    headline.wait_for(timeout=30_000)
    assert phase in headline.inner_text(), (name, headline.inner_text())
    assert violations_on(page) == {}, name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return page.locator("main").inner_text()


def test_each_state_of_the_handoff_page(airflow: Airflow, page: Page) -> None:
    started = time.monotonic()
    airflow.wait_for("the console DAG to be parsed", lambda: parsed(airflow), 180, every_s=2)
    # Paused, so the run stays queued: nothing runs, the test writes what the tasks would.
    body = {"logical_date": None, "conf": {"time_scale": 3600}}
    made = airflow.api("POST", f"/dags/{DAG_ID}/dagRuns", json=body)
    run_id = str(made["dag_run_id"])
    handoff = load_handoff(Path(airflow.home) / "dags" / "handoffs" / f"{CONSOLE_HANDOFF_ID}.md")
    assert handoff.plan is not None
    run = Run(
        run_dir(report_dir_of(handoff), DAG_ID, run_id),
        [t.id for t in build_graph(handoff.plan).tasks],
    )
    try:
        # 1. Preflight and the notice done; the wait for the deploy time has begun.
        run.through(WAIT_TASK)
        record_start(run.folder, WAIT_TASK, 1, run.at(3))
        text = show(page, airflow, "1-waiting-for-deploy-time", "waiting for the deploy time")
        assert "Plan against the run" in text and "No window open." in text

        # 2. Deployed, switched, verified; the all-clear window is open; the sidecar drifted.
        run.through(WATCH_TASKS[0])
        run.window(WATCH_TASKS[0], "open", 3600, [])
        record_start(run.folder, WATCH_TASKS[0], 1, run.at(20))
        live = Drift("sidecar", str(handoff.sidecar_path), "a" * 64, "b" * 64)
        assert claim(run.folder, live, "post_switch_verification.health_via_live") is not None
        text = show(page, airflow, "2-window-open", "window open: all clear")
        assert "Window all clear" in text and "the sidecar changed during the run" in text
        assert "not observed by Prometheus" in text
        measure_requests_per_minute(page, airflow)

        # 3. Waiting for a person: the go/no-go gate of this manual-promotion handoff.
        reset(run)
        run.through("go_no_go")
        record_start(run.folder, "go_no_go", 1, run.at(12))
        text = show(page, airflow, "3-waiting-for-a-person", "waiting for a person")
        link = page.get_by_role("link", name="Answer go_no_go in Airflow")
        assert (link.get_attribute("href") or "").endswith(
            f"/dags/{DAG_ID}/runs/{quote(run_id)}/tasks/go_no_go/required_actions"
        )

        # 4. A breach in the validation window, and its rollback.
        reset(run)
        run.through(WATCH_TASKS[1])
        run.done(WATCH_TASKS[1], 30, 34, "failed")
        run.window(WATCH_TASKS[1], "breach", 0, ["HandoffErrorRateHigh"])
        run.done(ROLLBACK_TASK, 35, 37)
        breach = "breach in validation period, rolled back"
        text = show(page, airflow, "4-breach-and-rollback", breach)
        assert "HandoffErrorRateHigh" in text and "breach" in text

        # 5. Handed over: every step of the timeline ended well.
        reset(run)
        run.through("abort")
        text = show(page, airflow, "5-handed-over", "handed over")
        assert SWITCH_TASK not in text  # steps, not task ids, on the timeline
    finally:
        airflow.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "failed"})
    # The overview links the handoff's page and shows the DORA figures; axe finds nothing.
    page.goto(f"{airflow.url}/handoffs/", timeout=60_000)
    page.locator("#handoffs").wait_for(timeout=60_000)
    assert page.locator(f'a[href="{DAG_ID}"]').count() == 1
    assert "DORA figures" in page.locator("main").inner_text()
    assert violations_on(page) == {}
    page.screenshot(path=str(ARTIFACTS / "0-overview.png"), full_page=True)
    print(f"\nhandoff page states: {time.monotonic() - started:.1f} s")


def test_the_seed_rehearsals_page_charts_prometheus(airflow: Airflow, page: Page) -> None:
    """After the browser test's seed rehearsal (same session), its page charts what the
    machine's Prometheus measured during the run, windows and switch marked."""
    runs = airflow.api("GET", f"/dags/{SEED_DAG}/dagRuns", params={"state": "success"})
    if not runs["dag_runs"]:
        pytest.skip("no seed rehearsal in this session (tests/e2e/test_browser_trigger.py)")
    text = show(page, airflow, "6-seed-handed-over-with-charts", "handed over", SEED_DAG)
    assert "Prometheus did not answer" not in text
    for chart in ("#chart-errors", "#chart-p95"):
        assert page.locator(f"{chart} polyline").count() >= 1, chart
    assert page.locator("#chart-errors line[stroke-dasharray]").count() >= 1  # the switch
    assert "report.html" in page.locator("#reports").inner_text()
    # The rehearsal went live: the overview's DORA table measured its lead time.
    page.goto(f"{airflow.url}/handoffs/", timeout=60_000)
    lead = page.locator("tr", has_text="Lead time, acceptance to live").locator("td").first
    assert "h (median)" in lead.inner_text(), lead.inner_text()


def reset(run: Run) -> None:
    """Forget the records of the previous state (the next one writes its own)."""
    for sub in ("timings", "watch", "drift"):
        folder = run.folder / sub
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink()


def measure_requests_per_minute(page: Page, airflow: Airflow) -> None:
    """Count what the open page asks of the API server while the run is in flight."""
    seen: list[str] = []

    def remember(request: Request) -> None:
        seen.append(request.url)

    page.on("request", remember)
    page.goto(f"{airflow.url}/handoffs/{DAG_ID}?refresh={REFRESH_S}", timeout=60_000)
    page.locator("#status .phase").wait_for(timeout=30_000)
    loaded = len(seen)
    page.wait_for_timeout(COUNT_FOR_S * 1000)
    polls = [u for u in seen[loaded:] if u.endswith(f"/handoffs/{DAG_ID}/live")]
    assert polls, seen
    assert page.locator("#refreshed").inner_text().startswith("Updated ")
    per_minute = len(polls) / COUNT_FOR_S * 60
    # The fragment's cost: computed (a miss) and cached (a hit), as the API server answers it.
    began = time.monotonic()
    assert airflow.session.get(f"{airflow.url}/handoffs/{DAG_ID}", timeout=30).status_code == 200
    whole_ms = (time.monotonic() - began) * 1000
    timings = []
    for _ in range(3):
        began = time.monotonic()
        answer = airflow.session.get(f"{airflow.url}/handoffs/{DAG_ID}/live", timeout=30)
        timings.append((time.monotonic() - began) * 1000)
        assert answer.status_code == 200 and answer.headers["X-Handoff-Final"] == "false"
    print(
        f"\nhandoff page: {loaded} request(s) to load, then {len(polls)} poll(s) in "
        f"{COUNT_FOR_S} s at {REFRESH_S} s ({per_minute:.0f}/min; at the default 30 s: 2/min); "
        f"whole page (computed) {whole_ms:.0f} ms, fragment (cached) "
        f"{', '.join(f'{t:.0f}' for t in timings)} ms"
    )
    page.remove_listener("request", remember)
