"""The watch trigger: runs in the triggerer, probes the live listener until the window ends.

It lives under plugins/ because the triggerer imports triggers by dotted path and only
plugins/ is on its sys.path. Everything it needs comes from its kwargs, and the window's end
is an absolute time: when the triggerer cancels it and re-creates it elsewhere, the new
instance resumes watching until the same end. The probes' statistics restart with it; the
metric analyses do not: they are Prometheus' answers, and a new instance first asks for
every point it missed since the window's start (`handoff.watch.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from handoff.analysis.prometheus import PrometheusClient, PrometheusSettings, QueryError
from handoff.analysis.verdict import Action, AnalysisSpec, Status
from handoff.analysis.verdict import Verdict as AnalysisVerdict
from handoff.watch.evaluate import (
    Breach,
    BreachKind,
    Sample,
    Verdict,
    WatchThresholds,
    WindowEvaluator,
    WindowSummary,
)
from handoff.watch.metrics import MetricWatch, describe_value
from handoff.watch.outage import EngineOutage, EngineOutagePolicy

log = logging.getLogger(__name__)

CLASSPATH = "handoff.watch.trigger.WatchTrigger"


class WatchTrigger(BaseTrigger):
    """Probe a router listener every ``interval_s`` until ``end_at`` or the first breach.

    Parameters (all JSON values, so the trigger survives serialization): ``window`` names the
    window in logs and the summary; ``base_url`` is the listener (e.g. the router's live port,
    ``http://127.0.0.1:8080``); ``health_path`` and ``probe_paths`` are probed each round;
    ``end_at`` is the window's end as an ISO 8601 UTC time; ``thresholds`` is the JSON form of
    `WatchThresholds`; ``request_timeout_s`` bounds one probe (a timeout counts as an error);
    a progress line is logged every ``log_every`` rounds; ``engine_outage`` (the JSON form of
    `EngineOutage`, or None to never ask the engine) names the target's engine to ping every
    round, and what an engine that does not answer means for the window; with
    ``status_file`` set, the window's latest figures are written there after every round (for
    the Handoffs page: the triggerer's state is not persisted anywhere else while a window is
    open). With ``prometheus_url`` and ``analyses`` (JSON of `AnalysisSpec`), each analysis is
    measured from Prometheus from ``analysis_start`` (Unix time, the window's start) on, and
    any firing alert whose labels include ``alert_match`` breaches the window.

    Yields exactly one event: ``Verdict.to_event()``, with status "completed" or "breach".
    """

    def __init__(
        self,
        *,
        window: str,
        base_url: str,
        end_at: str,
        health_path: str = "/health",
        probe_paths: Sequence[str] = (),
        interval_s: float = 1.0,
        thresholds: Mapping[str, Any] | None = None,
        request_timeout_s: float = 5.0,
        log_every: int = 10,
        status_file: str | None = None,
        engine_outage: Mapping[str, Any] | None = None,
        prometheus_url: str | None = None,
        analyses: Sequence[Mapping[str, Any]] = (),
        analysis_start: float | None = None,
        alert_match: Mapping[str, str] | None = None,
        tls_domain: str | None = None,
        tls_ca_file: str | None = None,
    ) -> None:
        # BaseTrigger.__init__ and TriggerEvent.__init__ are unannotated in Airflow 3.3.
        super().__init__()  # type: ignore[no-untyped-call]
        self.window = window
        self.base_url = base_url
        self.end_at = end_at
        self.health_path = health_path
        self.probe_paths = list(probe_paths)
        self.interval_s = float(interval_s)
        self.thresholds = dict(thresholds or {})
        self.request_timeout_s = float(request_timeout_s)
        self.log_every = int(log_every)
        self.status_file = status_file
        self.engine_outage = dict(engine_outage) if engine_outage else None
        self._outage = EngineOutage.from_dict(self.engine_outage) if self.engine_outage else None
        self.prometheus_url = prometheus_url
        self.analyses = [dict(a) for a in analyses]
        self.analysis_start = analysis_start
        self.alert_match = dict(alert_match or {})
        # A live listener terminating TLS: verified for the domain against this CA alone.
        self.tls_domain = tls_domain
        self.tls_ca_file = tls_ca_file
        if bool(tls_domain) != bool(tls_ca_file):
            raise ValueError("tls_domain and tls_ca_file go together")
        self._specs = [AnalysisSpec.from_json(dict(a)) for a in self.analyses]
        self._alerts: list[dict[str, Any]] = []
        if self._specs and not prometheus_url:
            raise ValueError("analyses need a prometheus_url to ask")
        # Fail where the trigger is built (the worker's task log), not later in the triggerer.
        self._end = parse_end(end_at)
        self._limits = WatchThresholds.from_dict(self.thresholds)
        if self.interval_s <= 0 or self.request_timeout_s <= 0 or self.log_every < 1:
            raise ValueError("interval_s and request_timeout_s must be > 0, log_every >= 1")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and the JSON kwargs that re-create this trigger."""
        return (
            CLASSPATH,
            {
                "window": self.window,
                "base_url": self.base_url,
                "end_at": self.end_at,
                "health_path": self.health_path,
                "probe_paths": list(self.probe_paths),
                "interval_s": self.interval_s,
                "thresholds": dict(self.thresholds),
                "request_timeout_s": self.request_timeout_s,
                "log_every": self.log_every,
                "status_file": self.status_file,
                "engine_outage": dict(self.engine_outage) if self.engine_outage else None,
                "prometheus_url": self.prometheus_url,
                "analyses": [dict(a) for a in self.analyses],
                "analysis_start": self.analysis_start,
                "alert_match": dict(self.alert_match),
                "tls_domain": self.tls_domain,
                "tls_ca_file": self.tls_ca_file,
            },
        )

    @property
    def paths(self) -> list[str]:
        """Return the paths probed each round, health first."""
        return [self.health_path, *(p for p in self.probe_paths if p != self.health_path)]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Probe until the window ends or breaks, then yield the verdict as one event."""
        evaluator = WindowEvaluator(self.window, self.health_path, self._limits)
        log.info(
            "window %s: probing %s at %s every %.3g s until %s (%.0f s from now)",
            self.window,
            ", ".join(self.paths),
            self.base_url,
            self.interval_s,
            self.end_at,
            seconds_until(self._end),
        )
        verdict = await self._watch(evaluator)
        await self._publish(verdict.summary, verdict.outcome.value, verdict.breach is not None)
        if verdict.analyses and self.status_file:
            await asyncio.to_thread(self._publish_analyses, verdict)
        summary = verdict.summary
        if verdict.breach is not None:
            log.warning(
                "window %s: BREACH after %s probes, %.0f s before the end: %s",
                self.window,
                summary.samples,
                seconds_until(self._end),
                verdict.breach.reason,
            )
        else:
            log.info(
                "window %s: completed: %s probes, %s errors (%.2f%%)",
                self.window,
                summary.samples,
                summary.errors,
                summary.error_rate_pct,
            )
        yield TriggerEvent(verdict.to_event())  # type: ignore[no-untyped-call]

    async def _watch(self, evaluator: WindowEvaluator) -> Verdict:
        metrics = self._metric_watch()
        prometheus = (
            PrometheusClient(PrometheusSettings(url=str(self.prometheus_url))) if metrics else None
        )
        try:
            if metrics is not None and prometheus is not None:
                recovered = await metrics.catch_up(prometheus, time.time())
                # The count is logged even when 0: a restarted watch is told apart from a
                # fresh one by it, in the log and in the restart drill.
                log.info(
                    "window %s: judging %s in Prometheus at %s; %s measurement(s) since the "
                    "window's start recovered from it",
                    self.window,
                    ", ".join(f"{s.metric} {s.condition.describe()}" for s in metrics.specs),
                    self.prometheus_url,
                    recovered,
                )
            extended = False
            while True:
                await self._probe_until_end(evaluator, metrics, prometheus)
                if metrics is None or prometheus is None or evaluator.breach is not None:
                    break
                await metrics.measure_due(prometheus, time.time())
                failing = metrics.decisive(finished=True)
                if failing is not None:
                    evaluator.declare(self._analysis_breach(failing, metrics))
                    break
                extend = [v for v in metrics.verdicts(True) if v.action is Action.EXTEND]
                if not extend or extended:
                    break
                extended = True
                extra = 3 * max(s.interval_s for s in metrics.specs)
                self._end = datetime.fromtimestamp(self._end.timestamp() + extra, UTC)
                log.warning(
                    "window %s: %s inconclusive (%s); policy 'extend': watching %.0f s longer, "
                    "once",
                    self.window,
                    ", ".join(v.metric for v in extend),
                    extend[0].reasons[0],
                    extra,
                )
        finally:
            if prometheus is not None:
                await prometheus.aclose()
        verdict = evaluator.verdict()
        if metrics is None:
            return verdict
        analyses = tuple(v.to_json() for v in metrics.verdicts(finished=True))
        for v in metrics.verdicts(finished=True):
            if v.action is Action.ASK:
                log.warning(
                    "window %s: %s is %s (%s); policy 'ask': the next human gate asks a "
                    "person, naming it",
                    self.window,
                    v.metric,
                    v.status.value,
                    v.reasons[0],
                )
        return replace(verdict, analyses=analyses, alerts=tuple(self._alerts))

    def _metric_watch(self) -> MetricWatch | None:
        if not self._specs or not self.prometheus_url:
            return None
        start = self.analysis_start if self.analysis_start is not None else time.time()
        return MetricWatch(self._specs, start, self.alert_match)

    async def _probe_until_end(
        self,
        evaluator: WindowEvaluator,
        metrics: MetricWatch | None,
        prometheus: PrometheusClient | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        rounds = 0
        # The analyses run beside the probe rounds, never in them: a Prometheus that is slow
        # or away (a daemon restart) must not slow the probes the outage policy counts on.
        analysing: asyncio.Task[None] | None = None
        # trust_env=False: the router is reached directly, never through a proxy from the env.
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.request_timeout_s, trust_env=False,
            **self._tls_kwargs(),
        ) as client:  # fmt: skip
            try:
                while seconds_until(self._end) > 0:
                    started = loop.time()
                    # The engine is pinged every round, not only when a probe fails: with
                    # live-restore the service keeps answering while the daemon is away, and the
                    # policy must still decide what an engine that cannot roll back means.
                    samples, engine_down = await asyncio.gather(
                        self._probe_round(client), self._engine_is_down()
                    )
                    if engine_down:
                        await self._ride_out_outage(client, evaluator, samples)
                        if evaluator.breach is not None:
                            break
                        continue
                    for sample in samples:
                        evaluator.add(sample)
                    if metrics is not None and prometheus is not None:
                        analysing = self._next_analysis(analysing, metrics, prometheus, evaluator)
                    if evaluator.breach is not None:
                        break
                    rounds += 1
                    await self._publish(evaluator.summary(), "open", False, metrics)
                    if rounds % self.log_every == 0:
                        self._log_progress(evaluator, metrics)
                    pause = self.interval_s - (loop.time() - started)
                    await asyncio.sleep(max(0.0, min(pause, seconds_until(self._end))))
            finally:
                if analysing is not None and not analysing.done():
                    analysing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await analysing

    def _next_analysis(
        self,
        running: asyncio.Task[None] | None,
        metrics: MetricWatch,
        prometheus: PrometheusClient,
        evaluator: WindowEvaluator,
    ) -> asyncio.Task[None]:
        """Return the analysis task in flight, or start the next once the last is done."""
        if running is not None and not running.done():
            return running
        if running is not None and not running.cancelled() and running.exception():
            log.error("window %s: an analysis round failed: %r", self.window, running.exception())
        return asyncio.create_task(self._analyse(metrics, prometheus, evaluator))

    async def _analyse(
        self, metrics: MetricWatch, prometheus: PrometheusClient, evaluator: WindowEvaluator
    ) -> None:
        """Measure the analyses that are due; breach on a failed one or a firing alert."""
        if not await metrics.measure_due(prometheus, time.time()):
            return  # alerts are asked as often as the analyses, not every probe round
        failing = metrics.decisive(finished=False)
        if failing is not None:
            evaluator.declare(self._analysis_breach(failing, metrics))
            return
        if not metrics.alert_match:
            return
        firing = await metrics.firing(prometheus)
        if isinstance(firing, QueryError):
            log.warning("window %s: could not read Prometheus' alerts: %s", self.window, firing)
            return
        for alert in firing:
            seen = {"name": alert.name, "labels": alert.labels, "active_at": alert.active_at}
            if seen not in self._alerts:
                self._alerts.append(seen)
        if firing:
            alert = firing[0]
            summary = alert.annotations.get("summary", "")
            evaluator.declare(
                Breach(
                    BreachKind.ALERT,
                    f"alert {alert.name} fired in Prometheus (active since {alert.active_at}, "
                    f"value {describe_value(alert.value)})" + (f": {summary}" if summary else ""),
                    measured=alert.value if math.isfinite(alert.value) else 0.0,
                    threshold=0.0,
                    at=datetime.now(UTC),
                )
            )

    def _analysis_breach(self, failing: AnalysisVerdict, metrics: MetricWatch) -> Breach:
        """Return the breach of a failed (or policy-breaching) analysis, with its evidence."""
        spec = next(s for s in metrics.specs if s.metric == failing.metric)
        last = failing.last
        value = last.value if last is not None and last.value is not None else float("nan")
        at = datetime.fromtimestamp(last.at, UTC) if last is not None else datetime.now(UTC)
        since = datetime.fromtimestamp(metrics.started_at, UTC)
        what = (
            "failed"
            if failing.status is Status.FAILED
            else f"{failing.status.value} ({failing.policy})"
        )
        return Breach(
            BreachKind.METRIC_ANALYSIS,
            f"{failing.metric} {what}: {'; '.join(r for r in failing.reasons if r)}; measured "
            f"{describe_value(value)} against {failing.condition} from "
            f"{since.isoformat(timespec='seconds')} to {at.isoformat(timespec='seconds')}",
            measured=value if math.isfinite(value) else 0.0,
            threshold=spec.condition.threshold,
            at=at,
            query=spec.promql,
            since=since,
        )

    async def _publish(
        self,
        summary: WindowSummary,
        state: str,
        breached: bool,
        metrics: MetricWatch | None = None,
    ) -> None:
        """Write the window's latest figures to ``status_file``; never end the window."""
        if not self.status_file:
            return
        status = {
            "window": self.window,
            "state": "breach" if breached else state,
            "end_at": self._end.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            "thresholds": self.thresholds,
            "summary": summary.to_dict(),
            "analyses": [v.to_json() for v in metrics.verdicts(False)] if metrics else [],
            "alerts": list(self._alerts),
        }
        try:
            await asyncio.to_thread(write_status, Path(self.status_file), status)
        except Exception:  # the page's figures are a convenience; the watch goes on
            log.exception("window %s: could not write its status file", self.window)

    async def _probe_round(self, client: httpx.AsyncClient) -> list[Sample]:
        sni = {"sni_hostname": self.tls_domain} if self.tls_domain else None
        return list(await asyncio.gather(*(probe(client, p, sni) for p in self.paths)))

    def _tls_kwargs(self) -> dict[str, Any]:
        """Return the client's TLS settings: the CA alone is trusted, the name is checked.

        The router is dialled by address; the domain goes out as SNI (httpcore's
        ``sni_hostname``, which is also the name the certificate is verified against) and as
        the Host header. Verification is never turned off.
        """
        if not self.tls_domain or not self.tls_ca_file:
            return {}
        context = ssl.create_default_context(cafile=self.tls_ca_file)
        return {"verify": context, "headers": {"Host": self.tls_domain}}

    async def _engine_is_down(self) -> bool:
        outage = self._outage
        return outage is not None and not await outage.answers()

    async def _ride_out_outage(
        self, client: httpx.AsyncClient, evaluator: WindowEvaluator, round_samples: list[Sample]
    ) -> None:
        """Apply the engine-outage policy: latch a breach, or wait (bounded) for recovery.

        Probes made while the engine is down are not fed to the evaluator: they measure the
        engine, not the release. The window's end is not moved; a recovery after it simply
        ends the window with what was measured.
        """
        outage = self._outage
        assert outage is not None
        first = next((s for s in round_samples if s.failed), None)
        service = (
            f"probe failed ({first.describe()})"
            if first is not None
            else f"the service still answers ({len(round_samples)} healthy probes this round)"
        )
        log.warning(
            "window %s: %s does not answer its ping and %s; policy %s: %s",
            self.window,
            outage.engine,
            service,
            outage.policy.value,
            "treat the outage as a breach"
            if outage.policy is EngineOutagePolicy.BREACH
            else f"wait up to {outage.wait_s:g} s for the engine and the service to recover",
        )
        if outage.policy is EngineOutagePolicy.BREACH:
            evaluator.declare(
                Breach(
                    BreachKind.ENGINE_OUTAGE,
                    f"{outage.engine} did not answer its ping "
                    f"({service}); policy 'breach' treats an engine outage as a breach: "
                    "nothing could be rolled back while it is away",
                    measured=0.0,
                    threshold=0.0,
                    at=first.at if first is not None else datetime.now(UTC),
                    path=first.path if first is not None else None,
                )
            )
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        discarded, engine_back_after = len(round_samples), None
        while loop.time() - started < outage.wait_s:
            await asyncio.sleep(self.interval_s)
            if not await outage.answers():
                continue
            if engine_back_after is None:
                engine_back_after = loop.time() - started
                log.info(
                    "window %s: %s answers again after %.1f s; waiting for the "
                    "service to answer healthily",
                    self.window,
                    outage.ping.what,
                    engine_back_after,
                )
            samples = await self._probe_round(client)
            if not any(s.failed for s in samples):
                log.info(
                    "window %s: recovered %.1f s after the engine outage began (%s probes made "
                    "during it were not counted); watching on, %.0f s left",
                    self.window,
                    loop.time() - started,
                    discarded,
                    seconds_until(self._end),
                )
                for sample in samples:
                    evaluator.add(sample)
                return
            discarded += len(samples)
        what = (
            "the service did not answer healthily after the engine came back"
            if engine_back_after is not None
            else "the engine did not answer again"
        )
        evaluator.declare(
            Breach(
                BreachKind.ENGINE_OUTAGE,
                f"outage of {outage.engine}: {what} within the {outage.wait_s:g}"
                f" s the policy 'wait' allows ({discarded} probes during it were not counted)",
                measured=round(loop.time() - started, 1),
                threshold=outage.wait_s,
                at=datetime.now(UTC),
            )
        )

    def _publish_analyses(self, verdict: Verdict) -> None:
        """Add the final analyses to the status file the last `_publish` wrote."""
        assert self.status_file is not None
        path = Path(self.status_file)
        try:
            status = json.loads(path.read_text())
            status["analyses"] = [dict(a) for a in verdict.analyses]
            status["alerts"] = [dict(a) for a in verdict.alerts]
            write_status(path, status)
        except Exception:  # the page's figures are a convenience; the verdict stands
            log.exception("window %s: could not add the analyses to its status file", self.window)

    def _log_progress(self, evaluator: WindowEvaluator, metrics: MetricWatch | None) -> None:
        if metrics is not None:
            log.info(
                "window %s: analyses: %s",
                self.window,
                "; ".join(
                    f"{v.metric} {v.status.value}, last {v.last.reason if v.last else 'none yet'}"
                    for v in metrics.verdicts(False)
                ),
            )
        log.info(
            "window %s: %s probes, %s errors (%.2f%%, limit %g%%), health failure streak %s/%s, "
            "%.0f s left",
            self.window,
            evaluator.samples,
            evaluator.errors,
            100.0 * evaluator.errors / max(1, evaluator.samples),
            self._limits.error_rate_limit_pct,
            evaluator.health_streak,
            self._limits.max_health_failures,
            seconds_until(self._end),
        )


async def probe(
    client: httpx.AsyncClient, path: str, extensions: dict[str, Any] | None = None
) -> Sample:
    """Send one GET and describe it; any failure becomes an error sample, never an exception."""
    at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        response = await client.get(path, extensions=extensions)
        status, error = response.status_code, None
    except Exception as exc:  # a probe must never end the window: every failure is evidence
        status, error = 0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    latency_ms = (time.perf_counter() - started) * 1000.0
    return Sample(at=at, path=path, status=status, latency_ms=latency_ms, error=error)


def write_status(path: Path, status: Mapping[str, Any]) -> None:
    """Replace a window's status file atomically (a reader never sees half a file).

    Never through a symlink: the file is under the report folder the page serves from.
    """
    from handoff.safe_paths import write_beneath

    write_beneath(path.parent, (path.name,), json.dumps(status).encode("utf-8"))


def parse_end(end_at: str) -> datetime:
    """Parse the window's end; it must carry a UTC offset so every component reads one instant."""
    try:
        end = datetime.fromisoformat(end_at)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"end_at must be an ISO 8601 time, got {end_at!r}") from exc
    if end.tzinfo is None:
        raise ValueError(f"end_at must carry a UTC offset, got {end_at!r}")
    return end


def seconds_until(end: datetime) -> float:
    """Return the seconds left until ``end`` (negative once it passed)."""
    return (end - datetime.now(UTC)).total_seconds()
