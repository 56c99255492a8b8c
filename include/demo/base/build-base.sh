#!/usr/bin/env bash
# Build the base image with debootstrap and `docker import` (no registry is reachable here).
#
# Usage: build-base.sh IMAGE_TAG RECIPE_HASH
# The Debian mirror and suite come from this machine's apt sources, read at build time, so
# the recipe names no host. The image carries python3 (the demo service, the router's
# tools) and haproxy (the router), nothing else.
set -euo pipefail

TAG="$1"
HASH="$2"
PACKAGES="python3,haproxy,ca-certificates"

say() { echo "build-base: $*"; }

# Print "URI SUITE" for the first main Debian source (one-line or deb822 format).
apt_source() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && $0 !~ /security|updates|backports/ {
                 i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                 print $i, $(i + 1); exit }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             /Types:[^\n]*deb( |$|\n)/ {
                 uri = ""; suite = ""
                 for (n = 1; n <= NF; n++) {
                     if ($n ~ /^URIs:/) { split($n, a, " "); uri = a[2] }
                     if ($n ~ /^Suites:/) { split($n, b, " "); suite = b[2] }
                 }
                 if (uri != "" && suite !~ /security/) { print uri, suite; exit }
             }' "$f"
    done
}

read -r MIRROR SUITE < <(apt_source | head -n 1)
if [ -z "${MIRROR:-}" ] || [ -z "${SUITE:-}" ]; then
    say "no Debian source found in /etc/apt/sources.list*; cannot debootstrap" >&2
    exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

WORK="$(mktemp -d /var/tmp/handoff-base.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

say "debootstrap $SUITE (variant minbase, + $PACKAGES) from the machine's apt source"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }

# Bring in the security suite's fixes when the machine's sources list one.
cp /etc/apt/sources.list.d/*.sources "$ROOTFS/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/apt/sources.list "$ROOTFS/etc/apt/sources.list" 2>/dev/null || true
if [ -n "$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null)" ]; then
    : >"$ROOTFS/etc/apt/sources.list"
fi
find "$ROOTFS/etc/apt/sources.list.d" -type f ! -name '*.sources' ! -name '*.list' -delete
rm -f "$ROOTFS"/etc/apt/sources.list.d/*disabled* 2>/dev/null || true
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
say "applying pending updates inside the rootfs"
if chroot "$ROOTFS" apt-get update -qq >"$WORK/upgrade.log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get -y -qq upgrade >>"$WORK/upgrade.log" 2>&1; then
    say "updates applied"
else
    say "updates could not be applied (see below); keeping the debootstrap release" >&2
    tail -n 5 "$WORK/upgrade.log" >&2 || true
fi

# Trim what a container never needs; the image stays small and reproducible enough.
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*.log \
    "$ROOTFS"/etc/resolv.conf
: >"$ROOTFS/etc/resolv.conf"

say "importing as $TAG"
tar -C "$ROOTFS" --numeric-owner -c . |
    docker import \
        --change "LABEL handoff.recipe-hash=$HASH" \
        --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' \
        - "$TAG" >/dev/null
say "built $TAG"
