#!/usr/bin/env bash
# The stack's one-shot init (service airflow-init): migrate the metadata database, give the
# admin the password from .env, and store the Slack webhook in the handoff_slack connection.
# Safe to run again: every step converges on the same state.
set -euo pipefail

say() { echo "airflow-init: $*"; }

say "migrating the metadata database"
airflow db migrate

# One Python process for the rest (each `airflow` CLI call costs seconds); the secrets travel
# through the environment, never through a command line other processes can read.
say "admin password and connections"
python3 - <<'PY'
import json
import os
from pathlib import Path

from airflow.models import Connection
from airflow.utils.session import create_session

# SimpleAuthManager reads the admin's password from this file (otherwise it would make one up
# and print it once in the api-server's log).
passwords = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
passwords.parent.mkdir(parents=True, exist_ok=True)
passwords.write_text(json.dumps({"admin": os.environ["HANDOFF_ADMIN_PASSWORD"]}))
passwords.chmod(0o600)

webhook = os.environ.get("HANDOFF_SLACK_WEBHOOK_URL", "").strip()
with create_session() as session:
    session.query(Connection).filter(Connection.conn_id == "handoff_slack").delete()
    if webhook:
        session.add(Connection(conn_id="handoff_slack", conn_type="slackwebhook", password=webhook))
        print("airflow-init: connection handoff_slack stored")
    else:
        print(
            "airflow-init: HANDOFF_SLACK_WEBHOOK_URL is empty, so no handoff_slack connection:"
            " preflight will stop every run until one exists"
        )
PY
say "done"
