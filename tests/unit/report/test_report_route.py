"""The report route and the page through the real plugin app, with Airflow's own auth.

Nothing stands in for Airflow: the metadata database is created, the loader's DagBag is
synced into it as the DAG processor would, users sign in with JWTs that the real
SimpleAuthManager issues and `get_user` checks, and the plugin's FastAPI app answers through
Starlette's TestClient. The attack of issue 14: a symlink committed under a sidecar's
in-project report_dir points at Airflow's generated password file, and a run id of ``..``
(sent as ``%2e%2e``) walks up to it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.airflow_env import configure_airflow, loader_dagbag
from tests.support.handoffs import make_handoffs

configure_airflow()

DAG_ID = "handoff_leak_1"
RUN_ID = "manual__2026-12-01T10:00:00.123456+00:00"
QUOTED_RUN_ID = quote(RUN_ID, safe="")
RUN_FOLDER = "manual__2026-12-01T10_00_00.123456_00_00"
REPORT_DIR = "shared-reports"


@dataclass(frozen=True)
class Site:
    """The app, the project it serves, the password file's text and a token per user."""

    client: TestClient
    project: Path
    password_file: Path
    password_text: str
    tokens: dict[str, str]

    def get(self, path: str, user: str = "admin") -> httpx.Response:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[user]}"})

    @property
    def runs(self) -> Path:
        return self.project / REPORT_DIR / "runs"


@pytest.fixture(scope="module")
def site(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    saved = dict(os.environ)
    os.environ.update(
        {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
            # Generated per run: the token is signed and checked by the real auth manager.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        }
    )
    project = tmp_path_factory.mktemp("project")
    folder = make_handoffs(
        project,
        ["LEAK-1", "BROKEN-3"],
        sidecar_edits={"promotion:": f"report_dir: {REPORT_DIR}\npromotion:"},
    )
    broken = folder / "BROKEN-3.md"
    broken.write_text(broken.read_text().replace("2025-10-06T10:40:00.000Z", "not a date"))
    os.environ["HANDOFF_DIR"] = str(folder)
    bag = loader_dagbag()
    assert DAG_ID in bag.dags, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)

    auth = create_auth_manager()
    auth.init()  # writes the generated password file, as the API server does at start
    password_file = Path(SimpleAuthManager.get_generated_password_file())
    password_text = password_file.read_text()
    assert password_text.strip() not in ("", "{}")
    tokens = {
        "admin": auth.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin")),
        "viewer": auth.generate_jwt(SimpleAuthManagerUser(username="viewer", role="viewer")),
        "nobody": auth.generate_jwt(SimpleAuthManagerUser(username="nobody", role=None)),
    }
    from handoff.ui.app import app

    try:
        yield Site(TestClient(app), project, password_file, password_text, tokens)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def plant_the_attack(site: Site) -> None:
    """Committed `runs/report.<fmt> -> <password file>` links and the DAG's runs folder."""
    site.runs.mkdir(parents=True, exist_ok=True)
    for fmt in ("json", "html", "md"):
        link = site.runs / f"report.{fmt}"
        if not link.is_symlink():
            link.symlink_to(site.password_file)
    (site.runs / DAG_ID).mkdir(exist_ok=True)


def assert_refused(site: Site, path: str) -> None:
    answer = site.get(path)
    status, body = answer.status_code, answer.text
    assert status == 404, (path, status, body[:300])
    assert site.password_text not in body
    for line in site.password_text.splitlines():
        if len(line.strip()) > 8:
            assert line.strip() not in body, path


def test_the_reproduced_attack_gives_404_and_no_password(site: Site) -> None:
    plant_the_attack(site)
    # The planted link does reach the password file: the attack is real, only the route stops it.
    assert (site.runs / DAG_ID / ".." / "report.json").read_text() == site.password_text
    assert_refused(site, f"/reports/{DAG_ID}/%2e%2e/report.json")


@pytest.mark.parametrize(
    "path",
    [
        f"/reports/{DAG_ID}/%2e%2e/report.json",
        f"/reports/{DAG_ID}/%2E%2E/report.html",
        f"/reports/{DAG_ID}/./report.json",
        f"/reports/{DAG_ID}/%2e/report.json",
        f"/reports/{DAG_ID}/..%2f..%2f{REPORT_DIR}%2fruns/report.json",
        f"/reports/{DAG_ID}/x%2F..%2F..%2F/report.json",
        f"/reports/{DAG_ID}/%2Fetc%2Fpasswd/report.json",
        f"/reports/{DAG_ID}/..%5c..%5c/report.json",
        f"/reports/{DAG_ID}/%00/report.json",
        f"/reports/{DAG_ID}/.hidden/report.json",
        f"/reports/%2e%2e/{DAG_ID}/report.json",
        f"/reports/{DAG_ID}%2f%2e%2e/%2e%2e/report.json",
        f"/reports/{DAG_ID}/%2e%2e/report.json%00.html",
        f"/reports/{DAG_ID}/%2e%2e/report.%2e%2e",
    ],
)
def test_path_tricks_give_404(site: Site, path: str) -> None:
    plant_the_attack(site)
    assert_refused(site, path)


def test_a_symlinked_report_file_gives_404(site: Site) -> None:
    run = site.runs / DAG_ID / RUN_FOLDER
    run.mkdir(parents=True, exist_ok=True)
    (run / "report.md").unlink(missing_ok=True)
    (run / "report.md").symlink_to(site.password_file)
    assert_refused(site, f"/reports/{DAG_ID}/{QUOTED_RUN_ID}/report.md")


def test_a_symlinked_run_folder_or_dag_folder_gives_404(site: Site, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "report.json").symlink_to(site.password_file)
    (elsewhere / "report.html").write_text("a real file, but in a folder reached by a link")
    run = site.runs / DAG_ID / "linked-run"
    run.parent.mkdir(parents=True, exist_ok=True)
    if not run.is_symlink():
        run.symlink_to(elsewhere)
    assert_refused(site, f"/reports/{DAG_ID}/linked-run/report.json")
    assert_refused(site, f"/reports/{DAG_ID}/linked-run/report.html")
    assert "elsewhere" not in site.get(f"/reports/{DAG_ID}/linked-run/report.html").text


def test_a_real_report_is_still_served(site: Site) -> None:
    run = site.runs / DAG_ID / RUN_FOLDER
    run.mkdir(parents=True, exist_ok=True)
    (run / "report.html").write_text("<h1>Deployment report</h1>")
    answer = site.get(f"/reports/{DAG_ID}/{QUOTED_RUN_ID}/report.html")
    assert answer.status_code == 200, answer.text
    assert answer.text == "<h1>Deployment report</h1>"
    assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_rows_without_a_dag_only_for_users_who_read_dags(site: Site) -> None:
    admin = site.get("/").text
    viewer = site.get("/", "viewer").text
    nobody = site.get("/", "nobody")
    assert "LEAK-1" in admin and "BROKEN-3" in admin and "not a date" in admin
    assert "LEAK-1" in viewer and "BROKEN-3" in viewer
    assert nobody.status_code == 200
    # A signed-in user without a role reads no DAG: neither the handoff nor the broken
    # contract's lint errors and acceptance.
    assert "LEAK-1" not in nobody.text and "BROKEN-3" not in nobody.text
    assert "not a date" not in nobody.text and "accepted by" not in nobody.text
    assert "No handoff contract found" in nobody.text


def test_a_user_without_a_role_gets_no_report(site: Site) -> None:
    answer = site.get(f"/reports/{DAG_ID}/any-run/report.html", "nobody")
    assert answer.status_code == 403
