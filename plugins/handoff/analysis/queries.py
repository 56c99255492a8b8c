"""The PromQL of each metric of a service and colour, from what the stack really exposes.

Names seen in the running stack (docs/observability.md):

- HAProxy's exporter, job ``haproxy``: ``haproxy_server_http_responses_total`` with
  ``proxy`` (the listener's backend: ``live``, ``preview``; ``colour_blue``/``colour_green``
  are the metrics listener's own), ``server`` (the colour) and ``code`` (``1xx`` .. ``5xx``,
  ``other``). Every real request through a listener, counted per colour.
- The service's own metrics, job ``service``, labelled ``colour``: the latency histogram
  ``demo_http_request_duration_seconds`` by ``path`` and ``code``, the feature, auth-failure
  and refusal counters, and the client's ``process_*`` metrics.

Every series carries ``service``. A query whose traffic is zero divides 0 by 0 and answers
NaN, and a quantile over no observation answers NaN: the verdict reads both as inconclusive.
Each ``MetricQuery`` comes with the query of its sample count (requests, observations or
scrapes in the window), so a verdict can refuse to judge on too few.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handoff.analysis.promql import duration, selector


class Listener(StrEnum):
    """The router's listeners, as HAProxy's exporter names their backends (``proxy``)."""

    LIVE = "live"
    PREVIEW = "preview"


@dataclass(frozen=True)
class ServiceMetrics:
    """The metric names a service exposes; the defaults are the demo service's."""

    latency_histogram: str = "demo_http_request_duration_seconds"
    feature_uses: str = "demo_feature_uses_total"
    auth_failures: str = "demo_auth_failures_total"
    refused_requests: str = "demo_refused_requests_total"
    router_responses: str = "haproxy_server_http_responses_total"
    cpu_seconds: str = "process_cpu_seconds_total"
    resident_memory: str = "process_resident_memory_bytes"


@dataclass(frozen=True)
class Target:
    """What a query is about: one service, one colour, seen through one listener."""

    service: str
    colour: str
    listener: Listener = Listener.LIVE
    metrics: ServiceMetrics = ServiceMetrics()

    def router_labels(self) -> dict[str, str]:
        """Return the matchers of this colour's server in the listener's backend."""
        return {"service": self.service, "proxy": self.listener.value, "server": self.colour}

    def own_labels(self) -> dict[str, str]:
        """Return the matchers of the colour's own metrics."""
        return {"service": self.service, "colour": self.colour}


class Unit(StrEnum):
    """What a metric's value measures."""

    RATIO = "ratio"
    SECONDS = "seconds"
    PER_SECOND = "per_second"
    BYTES = "bytes"
    COUNT = "count"


@dataclass(frozen=True)
class MetricQuery:
    """A metric's PromQL, its unit, and the PromQL of the samples it rests on."""

    name: str
    promql: str
    unit: Unit
    samples_promql: str | None = None


def _sum_rate(sel: str, window: str) -> str:
    return f"sum(rate({sel}[{window}]))"


def _sum_increase(sel: str, window: str) -> str:
    return f"sum(increase({sel}[{window}]))"


def router_requests(target: Target, window_s: float) -> str:
    """Return the requests the router sent the colour in the window."""
    sel = selector(target.metrics.router_responses, target.router_labels())
    return _sum_increase(sel, duration(window_s))


def router_error_rate(target: Target, window_s: float) -> MetricQuery:
    """Return the share of the colour's answers through the listener that were 5xx."""
    window = duration(window_s)
    labels = target.router_labels()
    errors = selector(target.metrics.router_responses, labels | {"code": "5xx"})
    every = selector(target.metrics.router_responses, labels)
    promql = f"{_sum_rate(errors, window)} / {_sum_rate(every, window)}"
    return MetricQuery("router_error_rate", promql, Unit.RATIO, router_requests(target, window_s))


def request_rate(target: Target, window_s: float) -> MetricQuery:
    """Return the colour's requests per second through the listener."""
    sel = selector(target.metrics.router_responses, target.router_labels())
    return MetricQuery(
        "request_rate",
        _sum_rate(sel, duration(window_s)),
        Unit.PER_SECOND,
        router_requests(target, window_s),
    )


def _histogram(
    target: Target,
    suffix: str,
    extra: dict[str, str] | None = None,
    regex: dict[str, str] | None = None,
) -> str:
    labels = target.own_labels() | (extra or {})
    return selector(f"{target.metrics.latency_histogram}_{suffix}", labels, regex)


def service_error_rate(target: Target, window_s: float) -> MetricQuery:
    """Return the share of 5xx answers the service itself counted (its histogram's count).

    The 5xx series may not exist yet (a code appears at its first answer): ``or vector(0)``
    makes "no 5xx yet" a zero, while no traffic at all still divides by zero (NaN).
    """
    window = duration(window_s)
    every = _histogram(target, "count")
    errors = _histogram(target, "count", regex={"code": "5.."})
    promql = f"({_sum_rate(errors, window)} or vector(0)) / {_sum_rate(every, window)}"
    return MetricQuery("service_error_rate", promql, Unit.RATIO, _sum_increase(every, window))


def worst_path_error_rate(
    target: Target, window_s: float, min_path_requests: int = 20
) -> MetricQuery:
    """Return the largest share of 5xx answers on any one path (the service's histogram).

    A fault on one path that real users take but no probe requests is diluted in the
    service-wide rate; judged per path it is not. Only paths with at least
    ``min_path_requests`` requests in the window are judged (one failure of two requests on
    a rare path is no 50 % error rate). A path without a 5xx series counts as 0
    (``or ... * 0``), so a healthy service measures 0, not "no value".
    """
    window = duration(window_s)
    every = _histogram(target, "count")
    errors = _histogram(target, "count", regex={"code": "5.."})
    per_path_every = f"sum by (path) (increase({every}[{window}]))"
    per_path_errors = f"sum by (path) (increase({errors}[{window}]))"
    judged = f"({per_path_every} >= {min_path_requests:d})"
    promql = f"max(({per_path_errors} or {per_path_every} * 0) / {judged})"
    return MetricQuery("worst_path_error_rate", promql, Unit.RATIO, _sum_increase(every, window))


def latency_quantile(
    target: Target, window_s: float, path: str, quantile: float = 0.95
) -> MetricQuery:
    """Return the ``quantile`` of the service's latency on one path, from its histogram."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile {quantile!r}: expected a value between 0 and 1")
    window = duration(window_s)
    buckets = _histogram(target, "bucket", {"path": path})
    promql = f"histogram_quantile({quantile:g}, sum by (le) (rate({buckets}[{window}])))"
    count = _histogram(target, "count", {"path": path})
    return MetricQuery(
        f"p{round(quantile * 100)}_latency {path}",
        promql,
        Unit.SECONDS,
        _sum_increase(count, window),
    )


def latency_by_path(target: Target, window_s: float, quantile: float = 0.95) -> str:
    """Return the latency quantile of every path at once (one series per ``path``)."""
    window = duration(window_s)
    buckets = _histogram(target, "bucket")
    return f"histogram_quantile({quantile:g}, sum by (le, path) (rate({buckets}[{window}])))"


def latency_series_by_path(target: Target) -> str:
    """Return one series per path the latency histogram tracks (whatever its recent rate)."""
    return f"count by (path) ({_histogram(target, 'count')})"


def ratio(name: str, release: MetricQuery, baseline: MetricQuery) -> MetricQuery:
    """Return release / baseline: "within ±10 % of the old colour" as one query.

    Its samples are the release's: the baseline's traffic says nothing about the release.
    """
    promql = f"({release.promql}) / ({baseline.promql})"
    return MetricQuery(name, promql, Unit.RATIO, release.samples_promql)


def _scrapes(target: Target, metric: str, window: str) -> str:
    return f"count_over_time({selector(metric, target.own_labels())}[{window}])"


def cpu_usage(target: Target, window_s: float) -> MetricQuery:
    """Return the colour's CPU use (cores, from its process metrics)."""
    window = duration(window_s)
    sel = selector(target.metrics.cpu_seconds, target.own_labels())
    return MetricQuery(
        "cpu_cores",
        _sum_rate(sel, window),
        Unit.PER_SECOND,
        f"sum({_scrapes(target, target.metrics.cpu_seconds, window)})",
    )


def memory_usage(target: Target, window_s: float) -> MetricQuery:
    """Return the colour's largest resident memory over the window."""
    window = duration(window_s)
    sel = selector(target.metrics.resident_memory, target.own_labels())
    return MetricQuery(
        "resident_memory",
        f"max(max_over_time({sel}[{window}]))",
        Unit.BYTES,
        f"sum({_scrapes(target, target.metrics.resident_memory, window)})",
    )


def feature_uses(target: Target, window_s: float) -> str:
    """Return the uses of each feature in the window (one series per ``feature``)."""
    sel = selector(target.metrics.feature_uses, target.own_labels())
    return f"sum by (feature) (increase({sel}[{duration(window_s)}]))"


def auth_failures(target: Target, window_s: float) -> MetricQuery:
    """Return the authentication failures the colour counted in the window."""
    sel = selector(target.metrics.auth_failures, target.own_labels())
    return MetricQuery("auth_failures", _sum_increase(sel, duration(window_s)), Unit.COUNT)


def refused_requests(target: Target, window_s: float) -> MetricQuery:
    """Return the requests the colour refused in the window."""
    sel = selector(target.metrics.refused_requests, target.own_labels())
    return MetricQuery("refused_requests", _sum_increase(sel, duration(window_s)), Unit.COUNT)


def overall_latency_quantile(target: Target, window_s: float, quantile: float = 0.95) -> str:
    """Return the ``quantile`` of the colour's latency over every path (one series)."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile {quantile!r}: expected a value between 0 and 1")
    buckets = _histogram(target, "bucket")
    return f"histogram_quantile({quantile:g}, sum by (le) (rate({buckets}[{duration(window_s)}])))"
