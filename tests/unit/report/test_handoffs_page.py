"""The Handoffs page: rows from a real catalog, live watch figures from a real trigger, escaping."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.airflow_env import configure_airflow

configure_airflow()  # the watch trigger imports Airflow

from handoff.catalog import load_catalog  # noqa: E402
from handoff.evidence.store import report_dir_of, run_dir  # noqa: E402
from handoff.ui.links import report_link  # noqa: E402
from handoff.ui.overview import LatestRun, handoff_rows, read_watch_figures  # noqa: E402
from handoff.ui.page import render_page  # noqa: E402
from handoff.watch.evaluate import LatencyBudget, WatchThresholds  # noqa: E402
from handoff.watch.trigger import WatchTrigger  # noqa: E402
from tests.support.handoffs import make_handoffs  # noqa: E402
from tests.support.loopback import loopback_service  # noqa: E402

INJECTED = "<script>alert(1)</script>"
NOW = datetime.now(UTC)


def folder_with_three(tmp_path: Path) -> Path:
    folder = make_handoffs(tmp_path, ["GOOD-1", "EVIL-2", "BROKEN-3"])
    # Markdown drops inline HTML from a contract; a sidecar's YAML string keeps it.
    evil = folder / "EVIL-2.deploy.yaml"
    evil.write_text(
        evil.read_text().replace("accepted_by: SPARC SRE Engineer", f"accepted_by: '{INJECTED}'")
    )
    broken = folder / "BROKEN-3.md"
    broken.write_text(broken.read_text().replace("2025-10-06T10:40:00.000Z", f"{INJECTED}"))
    return folder


def test_every_contract_with_lint_acceptance_schedule_and_latest_run(tmp_path: Path) -> None:
    folder = folder_with_three(tmp_path)
    catalog = load_catalog([folder])
    visible = {"handoff_good_1", "handoff_evil_2"}
    latest = {"handoff_good_1": LatestRun("manual__1", "success", NOW)}
    rows = handoff_rows(catalog, visible, latest, NOW, show_undeployed=True)
    assert [r.handoff_id for r in rows] == ["BROKEN-3", "EVIL-2", "GOOD-1"]
    broken, evil, good = rows
    assert broken.dag_id is None and broken.errors and "not an ISO 8601" in broken.errors[0]
    assert good.latest == latest["handoff_good_1"] and evil.latest is None
    assert good.acceptance.startswith("accepted by SPARC SRE Engineer")
    assert good.schedule == "when triggered"
    page = render_page(rows, "http://af:8080", f"admin{INJECTED}")
    assert "<script" not in page and page.count("&lt;script&gt;") == 2
    assert "manual__1" in page and "no run yet" in page and "1 error(s)" in page


def test_a_handoff_the_user_may_not_read_is_left_out(tmp_path: Path) -> None:
    catalog = load_catalog([folder_with_three(tmp_path)])
    rows = handoff_rows(catalog, set(), {}, NOW, show_undeployed=True)
    assert [r.handoff_id for r in rows] == ["BROKEN-3"]  # lint findings of a file without a DAG
    # Without a role that reads DAGs in general, a contract without a DAG is not shown either.
    assert handoff_rows(catalog, set(), {}, NOW, show_undeployed=False) == []


def test_an_open_window_shows_time_left_and_figures_against_thresholds(tmp_path: Path) -> None:
    folder = make_handoffs(tmp_path, ["WATCHED-1"])
    catalog = load_catalog([folder])
    handoff = catalog.handoffs[0]
    run = run_dir(report_dir_of(handoff), "handoff_watched_1", "manual__2")
    status = run / "watch" / "validation_period.watch.json"
    with loopback_service() as service:
        trigger = WatchTrigger(
            window="validation",
            base_url=service.url,
            end_at=(datetime.now(UTC) + timedelta(seconds=1.5)).isoformat(),
            probe_paths=["/"],
            interval_s=0.1,
            thresholds=WatchThresholds(
                error_rate_limit_pct=1.0, latency=(LatencyBudget("/", p95_ms=3000),)
            ).to_dict(),
            status_file=str(status),
        )

        async def watch_for_a_while() -> dict[str, object]:
            task = asyncio.ensure_future(trigger.run().__anext__())
            await asyncio.sleep(0.8)
            # While the window is open, the page reads the figures the trigger wrote.
            snapshot = json.loads(status.read_text())
            await task
            return snapshot

        snapshot = asyncio.run(watch_for_a_while())
    assert snapshot["state"] == "open" and snapshot["summary"]["samples"] > 0
    figures = read_watch_figures(run, datetime.fromisoformat(snapshot["updated_at"]))
    assert figures == ()  # the window has ended since: its final state is no longer open
    status.write_text(json.dumps(snapshot))
    [open_window] = read_watch_figures(run, datetime.fromisoformat(snapshot["updated_at"]))
    assert 0 < open_window.seconds_left <= 1.5
    assert open_window.error_rate_pct == 0.0 and open_window.error_rate_limit_pct == 1.0
    latency = {path: (p95, budget) for path, p95, budget in open_window.latency}
    assert latency["/"][0] is not None and latency["/"][1] == 3000
    rows = handoff_rows(
        catalog,
        {"handoff_watched_1"},
        {"handoff_watched_1": LatestRun("manual__2", "running", NOW)},
        datetime.fromisoformat(snapshot["updated_at"]),
        show_undeployed=False,
    )
    page = render_page(rows, "http://af:8080", "admin")
    assert "validation</b> open" in page and "limit 1 %" in page and "limit 3000 ms" in page


def test_report_links_quote_the_run_id() -> None:
    assert report_link("http://af:8080/", "handoff_x", "manual__2026-11-28T09:00:00+00:00") == (
        "http://af:8080/handoffs/reports/handoff_x/manual__2026-11-28T09%3A00%3A00%2B00%3A00"
        "/report.html"
    )


def test_the_catalog_is_parsed_again_only_after_a_file_changed(tmp_path: Path) -> None:
    from handoff.ui.catalog_cache import cached_catalog

    folder = make_handoffs(tmp_path, ["CACHED-1"])
    first = cached_catalog([folder])
    assert cached_catalog([folder]) is first
    sidecar = folder / "CACHED-1.deploy.yaml"
    sidecar.write_text(sidecar.read_text().replace("SPARC SRE Engineer", "Someone Else"))
    changed = cached_catalog([folder])
    assert changed is not first
    assert changed.handoffs[0].acceptance is not None
    assert changed.handoffs[0].acceptance.accepted_by == "Someone Else"


def test_a_symlinked_report_gets_no_link_and_an_unsafe_run_id_no_folder(tmp_path: Path) -> None:
    folder = make_handoffs(tmp_path, ["LINKED-1"])
    catalog = load_catalog([folder])
    run = run_dir(report_dir_of(catalog.handoffs[0]), "handoff_linked_1", "manual__3")
    run.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the page")
    (run / "report.html").symlink_to(secret)
    (run / "report.md").write_text("# a real report")
    visible = {"handoff_linked_1"}
    latest = {"handoff_linked_1": LatestRun("manual__3", "success", NOW)}
    [row] = handoff_rows(catalog, visible, latest, NOW, show_undeployed=False)
    assert row.reports == ("md",)
    # A run id Airflow may hold but no folder may be named after: no reports, no crash.
    dotted = {"handoff_linked_1": LatestRun("..", "running", NOW)}
    [row] = handoff_rows(catalog, visible, dotted, NOW, show_undeployed=False)
    assert row.reports == () and row.watches == ()
