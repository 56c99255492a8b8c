#!/usr/bin/env bash
# Write the stack's .env (git-ignored) with fresh secrets when there is none; never overwrite.
# Usage: write-env.sh [PATH]   (default: .env at the project's root)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ENV_FILE="${1:-$ROOT/.env}"

if [ -e "$ENV_FILE" ]; then
    echo "compose-env: $ENV_FILE exists; left as it is"
    exit 0
fi
umask 077
python3 - "$ENV_FILE" <<'PY'
import base64
import secrets
import sys

values = {
    # Signs the tokens every component presents to the api-server: one value for all.
    "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
    # Encrypts connection passwords (the Slack webhook) in the metadata database.
    "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
    "HANDOFF_ADMIN_PASSWORD": secrets.token_urlsafe(12),
}
lines = [
    "# The docker-compose stack's secrets and settings; written once by `make compose-env`.",
    "# Never commit this file. Log in to the UI as admin with HANDOFF_ADMIN_PASSWORD.",
    "COMPOSE_PROJECT_NAME=handoff",
    *(f"{key}={value}" for key, value in values.items()),
    "# Your team's Slack incoming webhook (stored in the handoff_slack connection).",
    "HANDOFF_SLACK_WEBHOOK_URL=",
    "# Loopback ports on this machine.",
    "HANDOFF_API_PORT=8080",
    "HANDOFF_POSTGRES_PORT=5432",
    "HANDOFF_REDIS_PORT=6379",
]
with open(sys.argv[1], "w") as out:
    out.write("\n".join(lines) + "\n")
PY
echo "compose-env: wrote $ENV_FILE (admin password: HANDOFF_ADMIN_PASSWORD in it)"
