"""`make run` keeps its folder private and writes no secret into its logs."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT


def run_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_run", ROOT / "include/demo/scripts/run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_run"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_airflow_home_is_private_and_an_old_one_is_tightened(tmp_path: Path) -> None:
    run = run_script()
    fresh = tmp_path / "fresh"
    run.prepare_home(fresh)
    assert mode(fresh) == 0o700

    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    password = old / run.PASSWORD_FILE
    password.write_text('{"admin": "x"}')
    password.chmod(0o644)
    run.prepare_home(old)
    assert mode(old) == 0o700 and mode(password) == 0o600


def test_logs_are_created_private(tmp_path: Path) -> None:
    run = run_script()
    log = tmp_path / "make-run.log"
    with os.fdopen(run.private_append(log), "a") as out:
        out.write("x")
    assert mode(log) == 0o600


def test_connection_output_and_secret_options_never_reach_the_log() -> None:
    run = run_script()
    webhook = "https://hooks.example.invalid/services/T000/B000/XXXXSECRET"
    got = run.loggable(
        ("connections", "get", "handoff_slack", "-o", "json"),
        f'[{{"conn_id": "handoff_slack", "password": "{webhook}", "host": "{webhook}"}}]',
        "",
    )
    assert "XXXXSECRET" not in got and "output withheld" in got
    assert got.startswith("$ airflow connections get handoff_slack -o json")

    added = run.loggable(
        ("connections", "add", "c", "--conn-password", "pw-1", "--conn-uri=slack://:pw-2@h"),
        "Successfully added `conn_id`=c\n",
        "",
    )
    assert "pw-1" not in added and "pw-2" not in added
    assert "--conn-password *** --conn-uri=***" in added and "Successfully added" in added

    migrated = run.loggable(("db", "migrate"), "Database migrated\n", "")
    assert "Database migrated" in migrated
