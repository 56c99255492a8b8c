"""A person rehearses the seed handoff from the Airflow UI in headless Chromium: log in, open
the DAG, fill the trigger form (rehearsal time scale), start the run and watch it succeed;
then the run's evidence is read through the REST API (tests/e2e/seed_rehearsal.py): every
criterion measured in Prometheus, the test alert received, the success sequence in Slack.

Playwright drives Debian's chromium (/usr/bin/chromium, `make browser`); no browser is
downloaded. Screenshots of each step are kept in build/artifacts/browser/.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from handoff.bluegreen import BlueGreenEngine
from handoff.checks.accessibility import CHROMIUM
from tests.e2e.conftest import Airflow, admin_password
from tests.e2e.seed_rehearsal import (
    DAG_ID,
    TIME_SCALE,
    check_seed_rehearsal,
    run_finished,
    wait_for_seed_dag,
)
from tests.support.demo import ROOT, V2
from tests.support.handoffs import REHEARSAL_ANSWERS

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "build" / "artifacts" / "browser"
RUN_DEADLINE_S = 420
# The form's rehearsal answers are empty (a person is asked); the drill types them in, by the
# field's title.
FORM_ANSWERS = {
    "Go/no-go answer": REHEARSAL_ANSWERS["answer_go_no_go"],
    "User-reported issues answer": REHEARSAL_ANSWERS["answer_user_issues"],
    "Handover sign-off answer": REHEARSAL_ANSWERS["answer_handover"],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browser`")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Page, airflow: Airflow) -> None:
    page.goto(airflow.url)
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(admin_password(airflow.home))
    shot(page, "1-login")
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/auth/login"), timeout=30_000)


def test_rehearse_the_seed_from_the_trigger_form(
    airflow: Airflow, seed_service: BlueGreenEngine, page: Page
) -> None:
    wait_for_seed_dag(airflow)
    log_in(page, airflow)

    page.goto(f"{airflow.url}/dags/{DAG_ID}")
    expect(page.get_by_text(DAG_ID).first).to_be_visible(timeout=30_000)
    shot(page, "2-dag")

    page.get_by_role("button", name="Trigger").first.click()
    form = page.get_by_role("dialog")
    expect(form.get_by_text("Rehearsal time scale")).to_be_visible()
    time_scale = form.get_by_role("spinbutton")
    time_scale.fill(str(TIME_SCALE))
    # The answers' section of the form is an accordion item: open it (it closes the others).
    section = form.get_by_role("button", name="Rehearsal answers")
    if section.get_attribute("aria-expanded") != "true":
        section.click()
    for title, answer in FORM_ANSWERS.items():
        # The form shows a field's title beside its textbox, in one group, without a label.
        field = form.get_by_role("group").filter(has_text=title).get_by_role("textbox")
        expect(field).to_have_value("")
        field.fill(answer)
    # A new DAG is paused: the form offers to unpause it with the run, ticked by default.
    unpause = form.get_by_role("checkbox", name=re.compile(r"^Unpause .* on trigger$"))
    if airflow.api("GET", f"/dags/{DAG_ID}")["is_paused"]:
        expect(unpause).to_be_checked()
    submit = form.get_by_test_id("trigger-dag-submit")
    expect(submit).to_be_enabled()
    shot(page, "3-trigger-form")

    posted: list[dict[str, Any]] = []

    def remember(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(f"/dags/{DAG_ID}/dagRuns"):
            posted.append(json.loads(request.post_data or "{}"))

    page.on("request", remember)
    with page.expect_response(lambda r: r.url.endswith(f"/dags/{DAG_ID}/dagRuns")) as answer:
        submit.click()
    started = time.monotonic()
    assert answer.value.status == 200, answer.value.text()
    run_id = str(answer.value.json()["dag_run_id"])
    (ARTIFACTS / "trigger-request.json").write_text(json.dumps(posted, indent=2))
    assert posted and float(posted[0]["conf"]["time_scale"]) == float(TIME_SCALE)
    # The form posts the whole of it as conf: every param of the DAG, defaults filled in.
    params = airflow.api("GET", f"/dags/{DAG_ID}/details")["params"]
    assert set(posted[0]["conf"]) == set(params), sorted(set(params) ^ set(posted[0]["conf"]))
    assert posted[0]["conf"]["release"] == V2
    assert {k: posted[0]["conf"][k] for k in REHEARSAL_ANSWERS} == REHEARSAL_ANSWERS
    shot(page, "4-triggered")
    # Leave the DAG page while the run works: its polling queries weigh on standalone's
    # SQLite API server, which on this loaded 2-core machine then answers the tasks' own
    # execution API calls too late. The run is followed through the REST API instead.
    page.goto("about:blank")

    airflow.wait_for(
        "the rehearsal started from the UI to finish",
        lambda: run_finished(airflow, run_id),
        RUN_DEADLINE_S,
        every_s=2,
    )
    print(f"\nseed rehearsal (time scale {TIME_SCALE}) ended in {time.monotonic() - started:.0f} s")
    page.goto(f"{airflow.url}/dags/{DAG_ID}/runs/{quote(run_id)}")
    # The run's own badge sits beside its id in the page's header (tasks have badges too).
    badge = (
        page.get_by_text(run_id, exact=True).last.locator("xpath=..").get_by_test_id("state-badge")
    )
    expect(badge).to_have_text(re.compile(r"Success|Failed"), timeout=30_000)
    shot(page, "5-run-finished")
    check_seed_rehearsal(airflow, run_id, seed_service)
    expect(badge).to_have_text("Success")
