#!/usr/bin/env bash
# Build the demo images: base (debootstrap), demo service (three releases, each with the
# migrations its schema needs, and the bad-expand release), the debug-port variant of the
# newest release (fails the security gate), the demo's PostgreSQL, the demo scanner, the
# router and the observability stack (Prometheus, Alertmanager, blackbox and node exporters, from
# Debian's packages: include/observability).
#
# Each image carries the hash of its recipe in the label handoff.recipe-hash: an image whose
# label matches is kept, one whose recipe changed is rebuilt. Run it as often as you like.
# Set HANDOFF_BASE_IMAGE to build the service and router on a public base instead
# (e.g. debian:bookworm-slim); the debootstrap base is then not built at all.
set -euo pipefail

DEMO="$(cd "$(dirname "$0")/.." && pwd)"
BASE_TAG="handoff-base:bookworm"
BASE_IMAGE="${HANDOFF_BASE_IMAGE:-$BASE_TAG}"
SERVICE_RELEASES="${HANDOFF_DEMO_RELEASES:-1.0.0 1.1.0 1.2.0}"
ROUTER_TAG="handoff-router:latest"
SCANNER_TAG="handoff-scanner:latest"

say() { echo "build-images: $*"; }

recipe_hash() { # files... -> short sha256 of their names and contents
    (for f in "$@"; do echo "== ${f#"$DEMO"/}"; cat "$f"; done) | sha256sum | cut -c1-16
}

image_hash() {
    docker image inspect --format '{{ index .Config.Labels "handoff.recipe-hash" }}' "$1" \
        2>/dev/null || true
}

up_to_date() { # tag hash
    [ "$(image_hash "$1")" = "$2" ]
}

if [ "$BASE_IMAGE" = "$BASE_TAG" ]; then
    hash="$(recipe_hash "$DEMO/base/build-base.sh")"
    if up_to_date "$BASE_TAG" "$hash"; then
        say "$BASE_TAG is up to date ($hash)"
    else
        say "building $BASE_TAG ($hash); a few minutes, once"
        "$DEMO/base/build-base.sh" "$BASE_TAG" "$hash"
    fi
fi
# Images built on the base are rebuilt whenever the base itself changes.
base_id="$(docker image inspect --format '{{ .Id }}' "$BASE_IMAGE" 2>/dev/null || echo "$BASE_IMAGE")"

build() { # tag context hash [build args...]
    local tag="$1" context="$2" hash="$3"
    shift 3
    if up_to_date "$tag" "$hash"; then
        say "$tag is up to date ($hash)"
        return
    fi
    say "building $tag ($hash)"
    local out
    # Output only on failure: the legacy builder (Debian's docker.io has no buildx) prints a
    # deprecation notice on every build otherwise.
    if ! out="$(docker build --quiet --build-arg "BASE=$BASE_IMAGE" \
        --label "handoff.recipe-hash=$hash" "$@" -t "$tag" "$context" 2>&1)"; then
        echo "$out" >&2
        say "building $tag failed" >&2
        exit 1
    fi
}

service_files=("$DEMO/service/Dockerfile" "$DEMO/service/app.py" "$DEMO/service/http_loop.py"
    "$DEMO/service/integrity_check.py"
    "$DEMO/service/migrate.py" "$DEMO/service/migrations/"*.sql)
# Each release's schema: the migration files it ships and the columns its code writes in the
# PostgreSQL store. 1.1.0 expands (origin added, release optional), 1.2.0 contracts (release
# dropped); the bad release renames a column 1.0.0 writes and calls it an expand.
schema_of() { # release -> "MIGRATIONS|RECORD_COLUMNS"
    case "$1" in
    1.0.0) echo "0001_records.sql|colour,release" ;;
    1.1.0) echo "0001_records.sql 0002_origin.sql|colour,release,origin" ;;
    1.1.0-bad-expand) echo "0001_records.sql 0002_rename_colour.sql|written_colour,release" ;;
    1.2.0 | *) echo "0001_records.sql 0002_origin.sql 0003_drop_release.sql|colour,origin" ;;
    esac
}
for release in $SERVICE_RELEASES 1.1.0-bad-expand; do
    schema="$(schema_of "$release")"
    hash="$(echo "$base_id $release $schema $(recipe_hash "${service_files[@]}")" |
        sha256sum | cut -c1-16)"
    build "handoff-demo:$release" "$DEMO/service" "$hash" --build-arg "RELEASE=$release" \
        --build-arg "MIGRATIONS=${schema%%|*}" --build-arg "RECORD_COLUMNS=${schema##*|}"
done

# The debug-port variant builds on the newest release's image, so it follows its rebuilds.
newest="${SERVICE_RELEASES##* }"
release_id="$(docker image inspect --format '{{ .Id }}' "handoff-demo:$newest")"
hash="$(echo "$release_id $(recipe_hash "$DEMO/service-debug/Dockerfile")" | sha256sum | cut -c1-16)"
build "handoff-demo:$newest-debug-port" "$DEMO/service-debug" "$hash" \
    --build-arg "RELEASE_IMAGE=handoff-demo:$newest"

# The demo's PostgreSQL (the store both colours share when a sidecar names a database): the
# compose stack's recipe, Debian's postgresql on the same base, under a tag of its own.
POSTGRES="$(cd "$DEMO/../compose/postgres" && pwd)"
hash="$(echo "$base_id $(recipe_hash "$POSTGRES/Dockerfile" "$POSTGRES/entrypoint.sh")" |
    sha256sum | cut -c1-16)"
build "handoff-demo-postgres:latest" "$POSTGRES" "$hash"

scanner_files=("$DEMO/scanner/Dockerfile" "$DEMO/scanner/scan.py")
hash="$(echo "$base_id $(recipe_hash "${scanner_files[@]}")" | sha256sum | cut -c1-16)"
build "$SCANNER_TAG" "$DEMO/scanner" "$hash"

router_files=("$DEMO/router/Dockerfile" "$DEMO/router/entrypoint.sh" "$DEMO/router/hactl.py")
hash="$(echo "$base_id $(recipe_hash "${router_files[@]}")" | sha256sum | cut -c1-16)"
build "$ROUTER_TAG" "$DEMO/router" "$hash"

# The observability stack: one context (include/observability) for the four images, each
# with its Dockerfile, hashed with the files its folder holds and the shared installer, by
# their names inside the folder so every checkout of the project agrees.
OBSERVABILITY="$(cd "$DEMO/../observability" && pwd)"
for name in prometheus alertmanager blackbox node-exporter; do
    hash="$( (echo "$base_id" && cd "$OBSERVABILITY" &&
        { echo ./install-packages.sh; find "./$name" -maxdepth 1 -type f | LC_ALL=C sort; } |
        while read -r f; do echo "== $f"; cat "$f"; done) | sha256sum | cut -c1-16)"
    build "handoff-$name:latest" "$OBSERVABILITY" "$hash" -f "$OBSERVABILITY/$name/Dockerfile"
done
say "images ready"
