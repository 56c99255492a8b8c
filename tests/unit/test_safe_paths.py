"""Strict names and symlink-free file access under a report folder, on real files."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.evidence import Evidence, EvidenceStatus, EvidenceStore, run_dir
from handoff.report.files import read_report_json
from handoff.report.timings import read_timings, record_start
from handoff.safe_paths import (
    UnsafePath,
    check_component,
    check_dag_id,
    check_run_id,
    is_file_beneath,
    list_beneath,
    read_beneath,
    run_folder_names,
    write_beneath,
)

AIRFLOW_RUN_IDS = [
    "manual__2026-12-01T10:00:00.123456+00:00",
    "scheduled__2026-12-01T10:00:00+00:00",
    "asset_triggered__2026-12-01T10:00:00.123456+00:00",
    "backfill__2026-12-01T10:00:00+00:00",
    "manual__2026-12-01T10:00:00.123456+00:00_aBcD1234",  # Airflow 3 adds a random suffix
    "my-release.2026~rc1",  # chosen through the API
    "_private",
    "a..b",  # two dots inside one component name no folder above
    "x" * 250,
]
REFUSED_IDS = [
    "",
    ".",
    "..",
    ".hidden",
    "../x",
    "a/b",
    "/etc/passwd",
    "%2e%2e",
    "..%2f..",
    "a\\b",
    "a\x00b",
    "a b",
    "run\n",
    "caf\u00e9",
    "x" * 256,
]
SECRET = "password-file-content-7f3a"


@pytest.mark.parametrize("run_id", AIRFLOW_RUN_IDS)
def test_airflow_run_ids_are_accepted(run_id: str) -> None:
    assert check_run_id(run_id) == run_id


@pytest.mark.parametrize("value", REFUSED_IDS)
def test_path_tricks_are_refused_as_ids_and_names(value: str) -> None:
    for check in (check_run_id, check_dag_id, check_component):
        with pytest.raises(UnsafePath, match="is not allowed: expected"):
            check(value)


def test_a_non_string_and_an_overlong_run_id_are_refused() -> None:
    with pytest.raises(UnsafePath):
        check_run_id(None)
    with pytest.raises(UnsafePath, match="at most 250 characters"):
        check_run_id("x" * 251)


def test_run_folders_keep_their_layout_and_refuse_dots(tmp_path: Path) -> None:
    assert run_folder_names("handoff_x", "manual__2026-12-01T10:00:00+00:00") == (
        "handoff_x",
        "manual__2026-12-01T10_00_00_00_00",
    )
    assert run_dir(tmp_path, "handoff_x", "manual__1") == tmp_path / "runs/handoff_x/manual__1"
    for dag_id, run_id in [("handoff_x", ".."), ("..", "manual__1"), ("handoff_x", "a/../..")]:
        with pytest.raises(UnsafePath):
            run_dir(tmp_path, dag_id, run_id)


def test_run_dir_refuses_a_symlinked_folder_on_the_way(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "reports" / "runs").mkdir(parents=True)
    (tmp_path / "reports" / "runs" / "handoff_x").symlink_to(outside)
    with pytest.raises(UnsafePath, match="symlink"):
        run_dir(tmp_path / "reports", "handoff_x", "manual__1")


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.json"
    path.write_text(SECRET)
    return path


def test_a_real_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "report.json").write_text("{}")
    assert read_beneath(tmp_path, ("a", "b", "report.json")) == b"{}"
    assert is_file_beneath(tmp_path, ("a", "b", "report.json"))
    with pytest.raises(FileNotFoundError):
        read_beneath(tmp_path, ("a", "b", "report.md"))


def test_a_symlinked_file_is_not_read(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "report.json").symlink_to(secret)
    with pytest.raises(UnsafePath):
        read_beneath(tmp_path / "base", ("report.json",))
    assert not is_file_beneath(tmp_path / "base", ("report.json",))


def test_a_symlinked_parent_folder_is_not_entered(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "run").symlink_to(secret.parent)
    assert (tmp_path / "base" / "run" / "secret.json").read_text() == SECRET  # by path it leaks
    with pytest.raises(UnsafePath):
        read_beneath(tmp_path / "base", ("run", "secret.json"))


def test_dot_dot_and_separators_are_refused_as_parts(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "base" / "run").mkdir(parents=True)
    for parts in [("run", "..", "..", "secret.json"), ("..", "secret.json"), ("run/../..",)]:
        with pytest.raises(UnsafePath):
            read_beneath(tmp_path / "base", parts)
    with pytest.raises(UnsafePath):
        read_beneath(tmp_path / "base", (str(secret),))


def test_a_hard_link_and_a_fifo_are_not_read(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "base").mkdir()
    os.link(secret, tmp_path / "base" / "report.json")
    os.mkfifo(tmp_path / "base" / "report.md")
    with pytest.raises(UnsafePath):
        read_beneath(tmp_path / "base", ("report.json",))
    with pytest.raises(UnsafePath):  # O_NONBLOCK: opening a FIFO never hangs the server
        read_beneath(tmp_path / "base", ("report.md",))


def test_the_trusted_base_may_be_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "report.json").write_text("{}")
    (tmp_path / "reports").symlink_to(tmp_path / "real")
    assert read_beneath(tmp_path / "reports", ("report.json",)) == b"{}"


def test_writing_creates_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write_beneath(tmp_path / "run", ("evidence", "t.json"), b"[]")
    assert path == tmp_path / "run" / "evidence" / "t.json" and path.read_bytes() == b"[]"
    write_beneath(tmp_path / "run", ("evidence", "t.json"), b"[1]")
    assert [p.name for p in (tmp_path / "run" / "evidence").iterdir()] == ["t.json"]
    assert list_beneath(tmp_path / "run", ("evidence",), ".json") == ["t.json"]


def test_writing_through_a_symlinked_file_is_refused(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "report.json").symlink_to(secret)
    with pytest.raises(UnsafePath):
        write_beneath(tmp_path / "run", ("report.json",), b"overwritten")
    assert secret.read_text() == SECRET and (tmp_path / "run" / "report.json").is_symlink()


def test_writing_through_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "evidence").symlink_to(outside)
    with pytest.raises(UnsafePath):
        write_beneath(tmp_path / "run", ("evidence", "t.json"), b"[]")
    (tmp_path / "linked-run").symlink_to(outside)
    with pytest.raises(UnsafePath):  # the run folder itself is opened with O_NOFOLLOW
        write_beneath(tmp_path / "linked-run", ("report.json",), b"{}")
    assert list(outside.iterdir()) == []


def test_the_stores_refuse_planted_symlinks(tmp_path: Path, secret: Path) -> None:
    run = tmp_path / "run"
    (run / "evidence").mkdir(parents=True)
    (run / "timings").mkdir()
    (run / "evidence" / "gates.smoke.json").symlink_to(secret)
    (run / "timings" / "preflight.json").symlink_to(secret)
    (run / "report.json").symlink_to(secret)
    record = Evidence("c", "g", "smoke", EvidenceStatus.PASSED, "ok", at="2026-12-01T10:00:00")
    with pytest.raises(UnsafePath):
        EvidenceStore(run).write("gates.smoke", [record])
    with pytest.raises(UnsafePath):
        record_start(run, "preflight", 1, datetime.now(UTC))
    assert secret.read_text() == SECRET
    # Readers skip what they may not read instead of reading through the link.
    assert EvidenceStore(run).read_all() == []
    assert read_timings(run) == {}
    assert read_report_json(run) is None
    EvidenceStore(run).write("gates.other", [record])
    assert EvidenceStore(run).read_all() == [record]
