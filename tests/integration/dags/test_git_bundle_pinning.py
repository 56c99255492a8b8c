"""The optional versioned bundle: a run keeps its GitDagBundle version while a commit lands.

Airflow records the bundle version a run started on and initializes that version for each
of its tasks; this drives the git provider's `GitDagBundle` the same way (tracking bundle
for the DAG processor, a pinned one per run version) over a local repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.catalog import load_handoff
from tests.support.handoffs import make_handoffs

pytestmark = pytest.mark.integration

git_bundle = pytest.importorskip("airflow.providers.git.bundles.git")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def version_of(bundle: object) -> str:
    """Return the commit a bundle is at (3.3 wraps it in a BundleVersion)."""
    current = bundle.get_current_version()  # type: ignore[attr-defined]
    return str(getattr(current, "version", current))


def service_in(root: Path) -> str:
    handoff = load_handoff(root / "handoffs" / "GIT-1.md")
    assert handoff.deployable and handoff.acceptance is not None, handoff.diagnostics
    return handoff.acceptance.service.name


def test_a_run_keeps_its_bundle_version_while_a_new_commit_changes_the_handoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH", str(tmp_path / "bundles"))
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    make_handoffs(repo, ["GIT-1"])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "accept GIT-1")

    def bundle(version: str | None = None) -> object:
        return git_bundle.GitDagBundle(
            name="handoffs", tracking_ref="main", repo_url=str(repo), version=version
        )

    tracking = bundle()
    tracking.initialize()  # type: ignore[attr-defined]
    started_on = version_of(tracking)
    assert service_in(tracking.path) == "ux-portal"  # type: ignore[attr-defined]

    sidecar = repo / "handoffs" / "GIT-1.deploy.yaml"
    sidecar.write_text(sidecar.read_text().replace("ux-portal", "renamed-portal"))
    git(repo, "commit", "-qam", "rename the service")

    tracking.refresh()  # type: ignore[attr-defined]
    assert version_of(tracking) != started_on
    assert service_in(tracking.path) == "renamed-portal"  # type: ignore[attr-defined]
    # What a task of the run started on the first commit sees:
    pinned = bundle(started_on)
    pinned.initialize()  # type: ignore[attr-defined]
    assert service_in(pinned.path) == "ux-portal"  # type: ignore[attr-defined]
