"""The Handoffs app, mounted by the plugin at /handoffs on Airflow's API server.

Plugin apps are not protected by Airflow: every route here resolves the user from the
Airflow JWT (the UI's `_token` cookie, or a Bearer token) with the API server's own
`get_user`, and shows only the handoffs whose DAGs the auth manager lets that user read;
contracts without a DAG (lint errors, not accepted) only to users who may read DAGs in general.
Reports are read with `handoff.safe_paths`: checked ids, no symlink followed below
the report folder; anything else is a 404 that names nothing on disk.
Airflow's server modules are imported inside the handlers: the plugin module that
registers this app is imported by every Airflow component, workers included.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handoff.catalog import Catalog, Handoff
from handoff.evidence.store import report_dir_of, run_parts
from handoff.plan.graph import PREFLIGHT_TASK
from handoff.plan.naming import dag_id_for
from handoff.report.files import FORMATS, report_name
from handoff.runtime.airflow_urls import airflow_base_url
from handoff.runtime.snapshot import Snapshot, in_flight_runs
from handoff.safe_paths import UnsafePath, read_beneath
from handoff.ui.catalog_cache import cached_catalog
from handoff.ui.handoff_live import REFRESH_DEFAULT_S, dora_section, live_view
from handoff.ui.handoff_page import render_handoff_page, render_live
from handoff.ui.live_cache import TtlCache
from handoff.ui.overview import LatestRun, handoff_rows
from handoff.ui.page import render_page

PROJECT_HANDOFFS = Path(__file__).resolve().parents[3] / "include" / "handoffs"
# The report's own CSS is inline and it loads nothing: forbid everything else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
# The handoff page runs one script of its own (served below) and fetches its live part.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'"
)
REFRESH_SCRIPT = Path(__file__).with_name("static") / "refresh.js"
LIVE_TTL_S = 10.0
live_cache = TtlCache(LIVE_TTL_S)

log = logging.getLogger(__name__)
app = FastAPI(title="Handoffs", docs_url=None, redoc_url=None, openapi_url=None)


async def current_user(request: Request) -> Any:
    """Return the Airflow user of the request; 401/403 when there is no valid token."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    return await get_user(request, None, await bearer_scheme(request))


UserDep = Annotated[Any, Depends(current_user)]


def _handoff_dags() -> dict[str, str | None]:
    """Return the contract path of every handoff DAG Airflow knows (None if not recorded)."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    found: dict[str, str | None] = {}
    with create_session() as session:
        dag_ids = session.scalars(
            select(DagTag.dag_id)
            .join(DagModel, DagModel.dag_id == DagTag.dag_id)
            .where(DagTag.name == "handoff", DagModel.is_stale.is_(False))
        ).all()
        for dag_id in dag_ids:
            dag = SerializedDagModel.get_dag(dag_id, session=session)
            if dag is None or not dag.has_task(PREFLIGHT_TASK):
                continue
            path = getattr(dag.get_task(PREFLIGHT_TASK), "contract_path", None)
            found[dag_id] = str(path) if path else None
    return found


def _latest_runs(dag_ids: set[str]) -> dict[str, LatestRun]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    latest: dict[str, LatestRun] = {}
    with create_session() as session:
        for dag_id in dag_ids:
            run = session.scalars(
                select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc())
            ).first()
            if run is not None:
                latest[dag_id] = LatestRun(str(run.run_id), str(run.state), run.start_date)
    return latest


def _folders(contract_paths: dict[str, str | None]) -> set[Path]:
    """Return the folders beside the DAGs' contracts and the loader's handoffs folder."""
    folders = {Path(p).parent for p in contract_paths.values() if p}
    configured = Path(os.environ.get("HANDOFF_DIR") or PROJECT_HANDOFFS)
    if configured.is_dir():
        folders.add(configured)
    return folders


def _catalog(contract_paths: dict[str, str | None]) -> Catalog:
    """Load every contract beside the DAGs' contracts and in the loader's handoffs folder."""
    return cached_catalog(_folders(contract_paths))


def _visible(user: Any, dag_ids: set[str]) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().filter_authorized_dag_ids(dag_ids=dag_ids, user=user))


def _may_read_all_dags(user: Any) -> bool:
    """Tell whether the user may read DAGs in general (no DAG named), as the auth manager says.

    Contracts without a DAG belong to no DAG the auth manager could filter by; their lint
    errors and acceptance are shown only to users whose role reads every DAG (under
    SimpleAuthManager: viewer and above; a user without a role gets no).
    """
    from airflow.api_fastapi.app import get_auth_manager

    return bool(get_auth_manager().is_authorized_dag(method="GET", user=user))


@app.get("/", response_class=HTMLResponse)
def handoffs_page(user: UserDep) -> HTMLResponse:
    """Show every contract with its lint status, acceptance, schedule and latest run."""
    dags = _handoff_dags()
    visible = _visible(user, set(dags))
    rows = handoff_rows(
        _catalog(dags),
        visible,
        _latest_runs(visible),
        datetime.now(UTC),
        show_undeployed=_may_read_all_dags(user),
    )
    dora = dora_section(_handoffs_by_dag(dags), visible, datetime.now(UTC))
    return HTMLResponse(render_page(rows, airflow_base_url(), _name(user), dora))


def _name(user: Any) -> str:
    return str(getattr(user, "get_name", lambda: "")() or "a signed-in user")


@app.get("", include_in_schema=False)
def without_slash() -> RedirectResponse:
    """Send /handoffs to /handoffs/ so the page's relative links resolve."""
    return RedirectResponse("handoffs/")


def _handoffs_by_dag(dags: dict[str, str | None]) -> dict[str, Handoff]:
    """Return the deployable handoff of each DAG id: the one whose contract the DAG was built
    from when two folders hold a contract with the same id (the second is a lint error)."""
    found: dict[str, Handoff] = {}
    for handoff in _catalog(dags).handoffs:
        if not (handoff.contract and handoff.deployable):
            continue
        dag_id = dag_id_for(handoff.contract.handoff_id)
        recorded = dags.get(dag_id)
        if dag_id not in found or (
            recorded and Path(recorded).resolve() == handoff.contract_path.resolve()
        ):
            found[dag_id] = handoff
    return found


def _handoff_of(dag_id: str) -> Handoff:
    handoff = _handoffs_by_dag(_handoff_dags()).get(dag_id)
    if handoff is None:
        raise HTTPException(404, f"no deployable handoff has the DAG {dag_id!r}")
    return handoff


@app.get("/reports/{dag_id}/{run_id}/report.{fmt}")
def run_report(dag_id: str, run_id: str, fmt: str, user: UserDep) -> Response:
    """Serve a run's report (html, md or json) to a user who may read the DAG."""
    if fmt not in FORMATS:
        raise HTTPException(404, f"reports come as {', '.join(FORMATS)}")
    try:
        parts = (*run_parts(dag_id, run_id), report_name(fmt))
    except UnsafePath as exc:
        raise HTTPException(404, str(exc)) from exc
    if dag_id not in _visible(user, {dag_id}):
        raise HTTPException(403, "you may not read this DAG")
    not_found = HTTPException(404, f"no report for run {run_id!r} of {dag_id!r} (yet)")
    try:
        # One folder at a time from the report folder, O_NOFOLLOW: no symlink, no '..'.
        content = read_beneath(report_dir_of(_handoff_of(dag_id)), parts)
    except UnsafePath as exc:
        log.warning("refused to serve %s: %s", "/".join(parts), exc)
        raise not_found from exc
    except OSError as exc:
        raise not_found from exc
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"}
    media = FORMATS[fmt] + ("; charset=utf-8" if fmt != "json" else "")
    return Response(content, media_type=media, headers=headers)


@app.get("/assets/refresh.js", include_in_schema=False)
def refresh_script(user: UserDep) -> Response:
    """Serve the handoff page's refresh script (the plugin's own file, nothing from a CDN)."""
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(REFRESH_SCRIPT.read_bytes(), media_type="text/javascript", headers=headers)


def _readable_handoff(dag_id: str, user: Any) -> Handoff:
    """Return the handoff of a DAG the user may read; while its live files are broken or gone,
    the one its run in flight works on (the run's snapshot, as the pinned DAG is built)."""
    if dag_id not in _visible(user, {dag_id}):
        raise HTTPException(403, "you may not read this DAG")
    try:
        return _handoff_of(dag_id)
    except HTTPException:
        for folder in _folders(_handoff_dags()):
            pinned = in_flight_runs(folder).get(dag_id)
            if pinned is not None:
                try:
                    return Snapshot.read(pinned.snapshot_dir).handoff()
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    log.warning("snapshot of %s unreadable: %s", pinned.run_id, exc)
        raise


def _live(dag_id: str, handoff: Handoff) -> tuple[str, bool]:
    view = live_view(dag_id, handoff, airflow_base_url(), datetime.now(UTC))
    return render_live(view), view.final


@app.get("/{dag_id}", response_class=HTMLResponse)
def handoff_page(dag_id: str, user: UserDep, refresh: int = REFRESH_DEFAULT_S) -> HTMLResponse:
    """Show one handoff's latest run: plan against timeline, window, charts, gates, drift."""
    handoff = _readable_handoff(dag_id, user)
    assert handoff.contract is not None
    view = live_view(dag_id, handoff, airflow_base_url(), datetime.now(UTC))
    page = render_handoff_page(
        view,
        handoff.contract.title,
        handoff.contract.objective,
        min(max(refresh, 5), 300),
        _name(user),
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})


@app.get("/{dag_id}/live", response_class=HTMLResponse)
def handoff_live(dag_id: str, user: UserDep) -> HTMLResponse:
    """Return the page's live part, computed at most once per LIVE_TTL_S for every reader."""
    handoff = _readable_handoff(dag_id, user)
    html, final = live_cache.get(dag_id, lambda: _live(dag_id, handoff))
    headers = {"Cache-Control": "no-store", "X-Handoff-Final": "true" if final else "false"}
    return HTMLResponse(html, headers=headers)
