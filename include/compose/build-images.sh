#!/usr/bin/env bash
# Build the docker-compose stack's images: Airflow (every component), Postgres, Redis and the
# Docker API's socket proxy, plus the demo images they drive (include/demo: base from
# debootstrap, service, router).
#
# Like include/demo/scripts/build-images.sh, each image carries the hash of its recipe in
# the label handoff.recipe-hash and is rebuilt only when the recipe or the base changed.
# Set HANDOFF_BASE_IMAGE (e.g. python:3.11-slim) to build on a public base instead.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
COMPOSE="$ROOT/include/compose"
BASE_IMAGE="${HANDOFF_BASE_IMAGE:-handoff-base:bookworm}"
AIRFLOW_TAG="${HANDOFF_AIRFLOW_IMAGE:-handoff-airflow:3.3.2}"
POSTGRES_TAG="${HANDOFF_POSTGRES_IMAGE:-handoff-postgres:15}"
REDIS_TAG="${HANDOFF_REDIS_IMAGE:-handoff-redis:7}"
PROXY_TAG="${HANDOFF_SOCKET_PROXY_IMAGE:-handoff-socket-proxy:latest}"

say() { echo "compose-images: $*"; }

"$ROOT/include/demo/scripts/build-images.sh"

base_id="$(docker image inspect --format '{{ .Id }}' "$BASE_IMAGE")"

# The context holds only what the recipe copies, so its hash is the recipe's hash.
context_hash() { # dir -> short sha256 of the base, the names and contents of the files
    (echo "$base_id" && cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
        echo "== $f"
        cat "$f"
    done) | sha256sum | cut -c1-16
}

build() { # tag context
    local tag="$1" context="$2" hash out
    hash="$(context_hash "$context")"
    if [ "$(docker image inspect --format '{{ index .Config.Labels "handoff.recipe-hash" }}' \
        "$tag" 2>/dev/null || true)" = "$hash" ]; then
        say "$tag is up to date ($hash)"
        return
    fi
    say "building $tag ($hash)"
    local started=$SECONDS
    # Output only on failure: the legacy builder prints a deprecation notice on every build.
    if ! out="$(docker build --build-arg "BASE=$BASE_IMAGE" \
        --label "handoff.recipe-hash=$hash" -t "$tag" "$context" 2>&1)"; then
        echo "$out" | tail -n 60 >&2
        say "building $tag failed" >&2
        exit 1
    fi
    say "built $tag in $((SECONDS - started)) s"
}

WORK="$(mktemp -d /var/tmp/handoff-compose-build.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# Airflow: the recipe, the project's pins and the machine's own certificate authorities.
mkdir -p "$WORK/airflow/ca-certificates"
cp "$COMPOSE/airflow/Dockerfile" "$COMPOSE/airflow/requirements-compose.txt" \
    "$ROOT/requirements.txt" "$ROOT/constraints.txt" "$WORK/airflow/"
for ca in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$ca" ] && cp "$ca" "$WORK/airflow/ca-certificates/"
done

build "$POSTGRES_TAG" "$COMPOSE/postgres"
build "$REDIS_TAG" "$COMPOSE/redis"
build "$PROXY_TAG" "$COMPOSE/socket-proxy"
build "$AIRFLOW_TAG" "$WORK/airflow"
say "images ready"
