"""The Handoffs app, mounted by the plugin at /handoffs on Airflow's API server.

Plugin apps are not protected by Airflow: every route here resolves the user from the
Airflow JWT (the UI's `_token` cookie, or a Bearer token) with the API server's own
`get_user`, and shows only the handoffs whose DAGs the auth manager lets that user read.
Airflow's server modules are imported inside the handlers: the plugin module that
registers this app is imported by every Airflow component, workers included.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from handoff.catalog import Catalog, Handoff
from handoff.evidence.store import report_dir_of, run_dir
from handoff.render.naming import dag_id_for
from handoff.report.files import FORMATS, report_path
from handoff.ui.catalog_cache import cached_catalog
from handoff.ui.links import airflow_base_url
from handoff.ui.overview import LatestRun, handoff_rows
from handoff.ui.page import render_page

PROJECT_HANDOFFS = Path(__file__).resolve().parents[3] / "include" / "handoffs"
# The report's own CSS is inline and it loads nothing: forbid everything else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

app = FastAPI(title="Handoffs", docs_url=None, redoc_url=None, openapi_url=None)


async def current_user(request: Request) -> Any:
    """Return the Airflow user of the request; 401/403 when there is no valid token."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    return await get_user(request, None, await bearer_scheme(request))


UserDep = Annotated[Any, Depends(current_user)]


def _handoff_dags() -> dict[str, str]:
    """Return the contract path of every handoff DAG Airflow knows, by DAG id."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    found: dict[str, str] = {}
    with create_session() as session:
        dag_ids = session.scalars(
            select(DagTag.dag_id)
            .join(DagModel, DagModel.dag_id == DagTag.dag_id)
            .where(DagTag.name == "handoff", DagModel.is_stale.is_(False))
        ).all()
        for dag_id in dag_ids:
            dag = SerializedDagModel.get_dag(dag_id, session=session)
            if dag is None or not dag.has_task("preflight"):
                continue
            kwargs = getattr(dag.get_task("preflight"), "op_kwargs", None) or {}
            if isinstance(kwargs, dict) and kwargs.get("contract_path"):
                found[dag_id] = str(kwargs["contract_path"])
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


def _catalog(contract_paths: dict[str, str]) -> Catalog:
    """Load every contract beside the DAGs' contracts and in the handoffs folder."""
    folders = {Path(p).parent for p in contract_paths.values()}
    configured = Path(os.environ.get("HANDOFF_DIR") or PROJECT_HANDOFFS)
    if configured.is_dir():
        folders.add(configured)
    return cached_catalog(folders)


def _visible(user: Any, dag_ids: set[str]) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().filter_authorized_dag_ids(dag_ids=dag_ids, user=user))


@app.get("/", response_class=HTMLResponse)
def handoffs_page(user: UserDep) -> HTMLResponse:
    """Show every contract with its lint status, acceptance, schedule and latest run."""
    dags = _handoff_dags()
    visible = _visible(user, set(dags))
    rows = handoff_rows(_catalog(dags), visible, _latest_runs(visible), datetime.now(UTC))
    name = getattr(user, "get_name", lambda: "")() or "a signed-in user"
    return HTMLResponse(render_page(rows, airflow_base_url(), str(name)))


@app.get("", include_in_schema=False)
def without_slash() -> RedirectResponse:
    """Send /handoffs to /handoffs/ so the page's relative links resolve."""
    return RedirectResponse("handoffs/")


def _handoff_of(dag_id: str) -> Handoff:
    dags = _handoff_dags()
    for handoff in _catalog(dags).handoffs:
        matches = handoff.contract and dag_id_for(handoff.contract.handoff_id) == dag_id
        if matches and handoff.deployable:
            return handoff
    raise HTTPException(404, f"no deployable handoff has the DAG {dag_id!r}")


@app.get("/reports/{dag_id}/{run_id}/report.{fmt}")
def run_report(dag_id: str, run_id: str, fmt: str, user: UserDep) -> Response:
    """Serve a run's report (html, md or json) to a user who may read the DAG."""
    if fmt not in FORMATS:
        raise HTTPException(404, f"reports come as {', '.join(FORMATS)}")
    if dag_id not in _visible(user, {dag_id}):
        raise HTTPException(403, "you may not read this DAG")
    # run_dir() keeps only safe characters, so no path leaves the report folder.
    path = report_path(run_dir(report_dir_of(_handoff_of(dag_id)), dag_id, run_id), fmt)
    if not path.is_file():
        raise HTTPException(404, f"no report for run {run_id!r} of {dag_id!r} (yet)")
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"}
    media = FORMATS[fmt] + ("; charset=utf-8" if fmt != "json" else "")
    return FileResponse(path, media_type=media, headers=headers)
