#!/bin/sh
# Start HAProxy on the persisted configuration; seed it from HANDOFF_ROUTER_CONFIG once.
set -eu
CFG=/var/lib/handoff-router/haproxy.cfg
if [ ! -s "$CFG" ]; then
    if [ -z "${HANDOFF_ROUTER_CONFIG:-}" ]; then
        echo "router: no $CFG and no HANDOFF_ROUTER_CONFIG to seed it" >&2
        exit 1
    fi
    printf '%s\n' "$HANDOFF_ROUTER_CONFIG" >"$CFG.seed"
    haproxy -c -q -f "$CFG.seed"
    mv -f "$CFG.seed" "$CFG"
    echo "router: seeded $CFG"
fi
echo "router: starting haproxy on $CFG"
exec haproxy -db -f "$CFG"
