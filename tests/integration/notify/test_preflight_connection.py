"""Preflight finds a missing Slack connection; the ledger lives under the report directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from handoff.catalog import load_handoff
from handoff.tasks.notify import check_slack_connection, ledger_of, slack_conn_id
from tests.support.handoffs import SEED_ID, make_handoffs
from tests.support.slack_receiver import conn_json

pytestmark = pytest.mark.integration


def test_a_missing_slack_connection_is_named_with_how_to_create_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_HANDOFF_SLACK", raising=False)
    handoff = load_handoff(make_handoffs(tmp_path, [SEED_ID]) / f"{SEED_ID}.md")
    with pytest.raises(
        AirflowFailException,
        match=r"Slack connection 'handoff_slack'.*does not exist.*"
        r"airflow connections add handoff_slack --conn-type slackwebhook.*"
        r"AIRFLOW_CONN_HANDOFF_SLACK",
    ):
        check_slack_connection(handoff)


def test_an_existing_connection_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json("http://127.0.0.1:9"))
    handoff = load_handoff(make_handoffs(tmp_path, [SEED_ID]) / f"{SEED_ID}.md")
    assert check_slack_connection(handoff) == "handoff_slack"


def test_the_sidecar_overrides_the_connection_id(tmp_path: Path) -> None:
    folder = make_handoffs(
        tmp_path,
        [SEED_ID],
        sidecar_edits={"environment: demo": "environment: demo\nslack_conn_id: ops_slack"},
    )
    handoff = load_handoff(folder / f"{SEED_ID}.md")
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]
    assert slack_conn_id(handoff) == "ops_slack"


def test_the_ledger_lives_under_the_report_directory_beside_the_handoffs(tmp_path: Path) -> None:
    handoff = load_handoff(make_handoffs(tmp_path, [SEED_ID]) / f"{SEED_ID}.md")
    assert ledger_of(handoff).path == tmp_path.resolve() / "reports" / "notifications.sqlite"
