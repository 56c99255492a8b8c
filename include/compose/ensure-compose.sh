#!/usr/bin/env bash
# Make sure a compose tool is here; idempotent. Prints the command to use on its last line:
# `docker compose` (the v2 plugin) when the engine's client has it, else Debian's
# `docker-compose` (v1.29: profiles, healthcheck conditions and service_completed_successfully
# all work), installed from apt when missing.
set -euo pipefail

say() { echo "ensure-compose: $*" >&2; }

if docker compose version >/dev/null 2>&1; then
    say "$(docker compose version)"
    echo "docker compose"
    exit 0
fi
if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        say "no compose tool; run as root so Debian's docker-compose can be installed"
        exit 1
    fi
    say "installing Debian's docker-compose (apt-get update first)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
say "$(docker-compose version --short 2>/dev/null || docker-compose --version)"
echo "docker-compose"
