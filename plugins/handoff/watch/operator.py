"""The watch-window operator: defers to `WatchTrigger` so a 72 h window holds no worker slot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from handoff.analysis.defaults import AnalysisThresholds, default_analyses
from handoff.analysis.prometheus import PrometheusSettings
from handoff.analysis.queries import Target
from handoff.watch.evaluate import Verdict, WatchThresholds
from handoff.watch.outage import EngineOutage
from handoff.watch.story import describe_duration, story
from handoff.watch.trigger import WatchTrigger

log = logging.getLogger(__name__)

# Windows at most this long are watched in the worker instead of the triggerer.
INLINE_WINDOW = timedelta(seconds=10)

# Prometheus scrapes every 5 s: a rate needs two scrapes in its window, a measurement one new.
MIN_ANALYSIS_INTERVAL_S = 5.0
MIN_RATE_WINDOW_S = 15

#: Key of the XCom holding the window's verdict, pushed on completion and on breach alike.
VERDICT_KEY = "verdict"


class WatchWindowOperator(BaseOperator):
    """Watch the live listener for a window; fail with the evidence on the first breach.

    Parameters (keyword-only): ``window`` names the window ("validation period");
    ``duration`` is its length in real time; ``base_url`` is the router's live listener;
    ``health_path`` and ``probe_paths`` are probed every ``interval``; ``thresholds`` is what
    the release is held to; ``time_scale`` (>= 1, templated, so "{{ params.time_scale }}"
    works) compresses the duration and the interval for rehearsals, the interval never below
    ``min_interval``; ``request_timeout`` bounds one probe; the defer timeout is the scaled
    duration plus ``margin`` (plus the outage wait); ``engine_outage`` says which
    engine to ping (the target kind's) when a probe fails and what its outage means (None:
    never ask); with ``report_dir`` set, the trigger writes the window's latest figures to
    ``<run folder>/watch/<task_id>.json`` (read by the Handoffs page). With
    ``ends_after_switch`` set, the window ends that long (scaled) after the switch time that
    ``switch_task_id`` recorded for the run (its XCom ``switched_at``), never counted from
    the task's own start: a retried, rescheduled or re-executed watch resumes until the
    window's original end. Without a recorded switch time it lasts ``duration`` from its start.
    With ``service`` and ``analysis`` set, the colour the switch made live is also judged in
    Prometheus (``prometheus_url``, else HANDOFF_PROMETHEUS_URL or the local stack): the
    default analyses of `handoff.analysis.defaults`, scaled like the window, and any firing
    alert of ``handoff_id`` with severity "page" breaches the window.

    Returns (and pushes as XCom ``verdict``) the trigger's event payload: status, window,
    summary, thresholds, and on a breach also reason and breach.
    """

    template_fields: Sequence[str] = ("base_url", "time_scale")
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        window: str,
        duration: timedelta,
        base_url: str,
        health_path: str = "/health",
        probe_paths: Sequence[str] = (),
        interval: timedelta = timedelta(minutes=1),
        thresholds: WatchThresholds | None = None,
        time_scale: float | str = 1.0,
        min_interval: timedelta = timedelta(milliseconds=250),
        request_timeout: timedelta = timedelta(seconds=5),
        margin: timedelta = timedelta(minutes=2),
        report_dir: str | None = None,
        engine_outage: EngineOutage | None = None,
        ends_after_switch: timedelta | None = None,
        switch_task_id: str | None = None,
        service: str | None = None,
        handoff_id: str | None = None,
        analysis: AnalysisThresholds | None = None,
        prometheus_url: str | None = None,
        tls: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if duration <= timedelta(0) or interval <= timedelta(0):
            raise ValueError(f"window {window}: duration and interval must be positive")
        self.window = window
        self.duration = duration
        self.base_url = base_url
        self.health_path = health_path
        self.probe_paths = list(probe_paths)
        self.interval = interval
        self.thresholds = thresholds or WatchThresholds()
        self.time_scale = time_scale
        self.min_interval = min_interval
        self.request_timeout = request_timeout
        self.margin = margin
        self.report_dir = report_dir
        self.engine_outage = engine_outage
        self.ends_after_switch = ends_after_switch
        self.switch_task_id = switch_task_id
        self.service = service
        self.handoff_id = handoff_id
        self.analysis = analysis
        self.prometheus_url = prometheus_url
        # {"domain", "ca_file"} when live terminates TLS (`handoff.bluegreen.tls`).
        self.tls = dict(tls) if tls else None
        if not isinstance(time_scale, str) or "{{" not in time_scale:
            parse_time_scale(time_scale)  # a literal scale is checked when the DAG is parsed

    def execute(self, context: Context) -> dict[str, Any] | None:
        """Start the window and defer to the trigger until it ends or breaks."""
        try:
            scale = parse_time_scale(self.time_scale)
        except ValueError as exc:
            raise AirflowFailException(f"window {self.window}: {exc}") from exc
        scaled = self.duration / scale
        interval = max(self.interval / scale, self.min_interval)
        end = self.window_end(context, scale, interval)
        log.info(
            "window %s: %s%s ends at %s",
            self.window,
            describe_duration(self.duration),
            f" (scaled ÷{scale:g} -> {describe_duration(scaled)})" if scale != 1 else "",
            end.isoformat(timespec="seconds"),
        )
        # What is left of the window decides where it is watched and the defer timeout.
        scaled = max(end - datetime.now(UTC), timedelta(0))
        log.info(
            "window %s: probing %s through %s every %s (%s in real time); holding it to %s",
            self.window,
            ", ".join([self.health_path, *self.probe_paths]),
            self.base_url,
            describe_duration(interval),
            describe_duration(self.interval),
            self.thresholds.describe(),
        )
        outage = self.engine_outage
        if outage is not None:
            log.info("window %s: engine outage policy: %s", self.window, outage.describe())
        trigger = WatchTrigger(
            window=self.window,
            base_url=self.base_url,
            end_at=end.isoformat(),
            health_path=self.health_path,
            probe_paths=self.probe_paths,
            interval_s=interval.total_seconds(),
            thresholds=self.thresholds.to_dict(),
            request_timeout_s=self.request_timeout.total_seconds(),
            status_file=self.status_file(context),
            engine_outage=outage.to_dict() if outage else None,
            tls_domain=self.tls["domain"] if self.tls else None,
            tls_ca_file=self.tls["ca_file"] if self.tls else None,
            **self.analysis_kwargs(context, scale, end - self.duration / scale),
        )
        if scaled <= INLINE_WINDOW:
            # Rehearsal-short windows run in the worker: a deferral that resumes within the
            # scheduler's loop can race the executor's report of the deferring process, and
            # Airflow 3.3 then fails the task as "changed externally".
            log.info(
                "window %s: short enough to watch in the worker, not the triggerer", self.window
            )
            return self.execute_complete(context, asyncio.run(_first_event(trigger)))
        outage_wait = timedelta(seconds=outage.wait_s) if outage else timedelta(0)
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=scaled + self.margin + outage_wait,
        )
        return None

    def analysis_kwargs(self, context: Context, scale: float, start: datetime) -> dict[str, Any]:
        """Return the trigger's Prometheus settings: the live colour's analyses, or none."""
        if self.analysis is None or not self.service:
            return {}
        switched = (
            context["ti"].xcom_pull(task_ids=self.switch_task_id) if self.switch_task_id else None
        )
        colour = switched.get("to_colour") if isinstance(switched, dict) else None
        if not colour:
            log.warning(
                "window %s: the run recorded no live colour; no metric analysis", self.window
            )
            return {}
        url = self.prometheus_url or PrometheusSettings.from_env().url
        thresholds = self.analysis.scaled(scale, MIN_ANALYSIS_INTERVAL_S, MIN_RATE_WINDOW_S)
        specs = default_analyses(Target(self.service, str(colour)), thresholds)
        log.info(
            "window %s: judging %s (%s) in Prometheus at %s every %.3g s over %s s rate "
            "windows; inconclusive -> %s, Prometheus errors -> %s",
            self.window,
            self.service,
            colour,
            url,
            thresholds.interval_s,
            thresholds.window_s,
            thresholds.on_inconclusive.value,
            thresholds.on_error.value,
        )
        return {
            "prometheus_url": url,
            "analyses": [s.to_json() for s in specs],
            "analysis_start": min(start, datetime.now(UTC)).timestamp(),
            "alert_match": {"handoff": self.handoff_id, "severity": "page"}
            if self.handoff_id
            else {},
        }

    def window_end(self, context: Context, scale: float, interval: timedelta) -> datetime:
        """Return when the window ends: from the run's switch time when it recorded one.

        A window whose end has passed when it starts (a rehearsal compresses the window below
        the checks before it, or a re-executed watch after its end) still gets one probe
        round, so its verdict rests on at least one measurement.
        """
        now = datetime.now(UTC)
        switched_at = self.switched_at(context)
        if switched_at is None or self.ends_after_switch is None:
            return now + self.duration / scale
        end = switched_at + self.ends_after_switch / scale
        log.info(
            "window %s: counted from the switch at %s: ends %s after it%s",
            self.window,
            switched_at.isoformat(timespec="seconds"),
            describe_duration(self.ends_after_switch),
            f" (scaled ÷{scale:g})" if scale != 1 else "",
        )
        if end <= now:
            log.info(
                "window %s: its end passed %.1f s ago; one probe round",
                self.window,
                (now - end).total_seconds(),
            )
            return now + interval
        return end

    def switched_at(self, context: Context) -> datetime | None:
        """Return the switch time the run recorded (None: no switch task, or none recorded)."""
        if not self.switch_task_id:
            return None
        switched = context["ti"].xcom_pull(task_ids=self.switch_task_id)
        value = switched.get("switched_at") if isinstance(switched, dict) else None
        if not value:
            log.warning(
                "window %s: the run recorded no switch time; counting from this start",
                self.window,
            )
            return None
        return datetime.fromisoformat(str(value))

    def status_file(self, context: Context) -> str | None:
        """Return where the trigger writes the window's latest figures (None: nowhere)."""
        if not self.report_dir:
            return None
        from handoff.evidence.store import run_dir  # the report layer, not needed to parse DAGs

        ti = context["ti"]
        folder = run_dir(Path(self.report_dir), ti.dag_id, ti.run_id)
        return str(folder / "watch" / f"{self.task_id}.json")

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Tell the window's story from the trigger's verdict; fail on a breach."""
        try:
            verdict = Verdict.from_event(event or {})
        except (KeyError, TypeError, ValueError) as exc:
            raise AirflowFailException(
                f"window {self.window}: the trigger sent no readable verdict ({exc!r}): {event!r}"
            ) from exc
        for line in story(verdict):
            log.info("window %s: %s", self.window, line)
        payload = verdict.to_event()
        context["ti"].xcom_push(key=VERDICT_KEY, value=payload)
        if verdict.breach is not None:
            raise AirflowFailException(
                f"window {self.window} breached at {verdict.breach.at.isoformat()}: "
                f"{verdict.breach.reason}"
            )
        return payload


async def _first_event(trigger: WatchTrigger) -> dict[str, Any]:
    """Run a trigger to its first event, as the triggerer would."""
    async for event in trigger.run():
        return dict(event.payload)
    raise AirflowFailException(f"window {trigger.window}: the trigger ended without a verdict")


def parse_time_scale(value: float | str) -> float:
    """Return the time scale as a float >= 1 (templating makes "3600" a string)."""
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"time_scale must be a number >= 1, got {value!r}") from None
    if not scale >= 1 or scale == float("inf"):  # `not >=` also rejects NaN
        raise ValueError(f"time_scale must be a number >= 1, got {value!r}")
    return scale
