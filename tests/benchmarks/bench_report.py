"""Benchmark: build and render a run's report; build the Handoffs page for many contracts.

The report task renders three formats once per run; the page is built on every request
(catalog load, rows, HTML). Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))

from handoff.catalog import load_catalog  # noqa: E402
from handoff.evidence import Evidence, EvidenceStatus  # noqa: E402
from handoff.notify.ledger import Entry  # noqa: E402
from handoff.report.build import RunRecords, build_report  # noqa: E402
from handoff.report.html_page import render_html  # noqa: E402
from handoff.report.markdown import render_markdown  # noqa: E402
from handoff.report.timings import TryTiming  # noqa: E402
from handoff.ui.catalog_cache import cached_catalog  # noqa: E402
from handoff.ui.overview import LatestRun, handoff_rows  # noqa: E402
from handoff.ui.page import render_page  # noqa: E402
from tests.support.handoffs import make_handoffs  # noqa: E402

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TASKS = [
    "preflight", "pre_deploy_notice", "wait_for_deploy_time", "deploy.start_release",
    "pre_switch_gates.health_via_preview", "pre_switch_gates.performance",
    "pre_switch_gates.security", "pre_switch_gates.accessibility", "pre_switch_gates.smoke",
    "switch.move_live_traffic", "post_switch_verification.health_via_live",
    "post_switch_verification.data_integrity", "all_clear.watch", "all_clear.announce",
    "validation_period.watch", "validation_period.no_user_reported_issues",
    "monitoring_period.watch", "handover.sign_off", "handover.retire_old_colour", "abort",
    "rollback.roll_back", "finalize",
]  # fmt: skip


def records(folder: Path) -> RunRecords:
    handoff = load_catalog([folder]).handoffs[0]
    assert handoff.plan is not None
    criteria = [b.criterion for b in handoff.plan.checks]
    return RunRecords(
        plan=handoff.plan, service="ux-portal", environment="demo", dag_id="handoff_b",
        run_id="manual__1", base_url="http://af:8080", hashes={}, settings=None,
        scaled_deploy_at=T0, task_ids=TASKS, states=dict.fromkeys(TASKS, "success"),
        timings={
            t: TryTiming(t, 1, T0 + timedelta(seconds=i), T0 + timedelta(seconds=i + 1), "success")
            for i, t in enumerate(TASKS)
        },
        evidence=[
            Evidence(c.name, c.group, "check", EvidenceStatus.PASSED, f"{c.name} ok",
                     measured={"p95_ms": 12.5}, task_id=TASKS[i % len(TASKS)], try_number=1)
            for i, c in enumerate(criteria * 2)
        ],
        notifications=[
            Entry(str(i), "d", "r", "PHASE", "step", "sent", 1, "", "t") for i in range(10)
        ],
        generated_at=T0,
    )  # fmt: skip


def timed(action: object, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_handoffs(Path(tmp) / "one", ["BENCH-1"])
        run = records(folder)
        report = build_report(run)
        build = timed(lambda: build_report(run), 200)
        html = timed(lambda: render_html(report), 200)
        markdown = timed(lambda: render_markdown(report), 200)
        print(f"report: {len(run.task_ids)} tasks, {len(run.evidence)} evidence records")
        print(f"  build     median {statistics.median(build):.2f} ms")
        size = len(render_html(report))
        print(f"  html      median {statistics.median(html):.2f} ms ({size} bytes)")
        print(f"  markdown  median {statistics.median(markdown):.2f} ms")
        for count in (1, 50, 200):
            many = make_handoffs(Path(tmp) / f"n{count}", [f"BENCH-{i}" for i in range(count)])
            dag_ids = {f"handoff_bench_{i}" for i in range(count)}
            latest = {d: LatestRun("manual__1", "success", T0) for d in dag_ids}

            def page(
                many: Path = many,
                dag_ids: set[str] = dag_ids,
                latest: dict[str, LatestRun] = latest,
            ) -> str:
                rows = handoff_rows(
                    cached_catalog([many]), dag_ids, latest, T0, show_undeployed=True
                )
                return render_page(rows, "http://af:8080", "admin")

            cold = timed(lambda many=many: load_catalog([many]), 3)
            page()  # the first request parses; later ones reuse the catalog
            samples = timed(page, 20)
            print(
                f"page: {count:>3} contracts  first request +{statistics.median(cold):.0f} ms "
                f"(parsing), then median {statistics.median(samples):.1f} ms"
            )


if __name__ == "__main__":
    main()
