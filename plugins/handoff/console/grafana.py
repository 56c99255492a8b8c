"""A Grafana dashboard (Classic JSON model) for one handoff, from the page's own queries.

Built from the same MetricQuery values the watch and the console use, so Grafana shows what
the handoff judged. Grafana's grid is 24 columns wide; two panels per row.
"""

from __future__ import annotations

from typing import Any

from handoff.analysis.queries import MetricQuery

SCHEMA_VERSION = 39  # Grafana 10/11 Classic model; older versions migrate it on import
PANEL_W, PANEL_H = 12, 8


def dashboard(
    uid: str, title: str, queries: list[MetricQuery], datasource_uid: str
) -> dict[str, Any]:
    """Return the dashboard model: one time-series panel per query, refIds A, B, ..."""
    datasource = {"type": "prometheus", "uid": datasource_uid}
    panels = [
        {
            "id": index + 1,
            "type": "timeseries",
            "title": query.name,
            "datasource": datasource,
            "gridPos": {
                "h": PANEL_H,
                "w": PANEL_W,
                "x": (index % 2) * PANEL_W,
                "y": (index // 2) * PANEL_H,
            },
            "fieldConfig": {"defaults": {"unit": str(query.unit)}, "overrides": []},
            "targets": [{"refId": "A", "expr": query.promql, "datasource": datasource}],
        }
        for index, query in enumerate(queries)
    ]
    return {
        "id": None,
        "uid": uid[:40],  # Grafana caps uids at 40 characters
        "title": title,
        "tags": ["handoff"],
        "timezone": "utc",
        "editable": True,
        "schemaVersion": SCHEMA_VERSION,
        "version": 0,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": panels,
    }


def handoff_queries(service: str, endpoints: list[str], window_s: int = 300) -> list[MetricQuery]:
    """Return what the watch judges for a service, for both colours, as dashboard queries."""
    from handoff.analysis import queries
    from handoff.analysis.queries import Target

    found: list[MetricQuery] = []
    for colour in ("blue", "green"):
        target = Target(service, colour)
        for q in (
            queries.router_error_rate(target, window_s),
            queries.worst_path_error_rate(target, window_s),
            *(queries.latency_quantile(target, window_s, path) for path in endpoints),
            queries.cpu_usage(target, window_s),
            queries.memory_usage(target, window_s),
        ):
            found.append(MetricQuery(f"{q.name} ({colour})", q.promql, q.unit, q.samples_promql))
    return found
