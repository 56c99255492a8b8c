#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine; idempotent.
#
# Machines of this kind have the docker client but no engine and no init system running
# services, so when nothing answers we install Debian's docker.io and start dockerd in the
# background ourselves. Safe to run again at any time: an answering engine is left alone.
set -euo pipefail

LOG="${HANDOFF_DOCKERD_LOG:-/var/log/handoff-dockerd.log}"
WAIT_SECONDS="${HANDOFF_DOCKERD_WAIT:-60}"

say() { echo "ensure-docker: $*"; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if engine_answers; then
    say "engine already answers"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        say "no engine and no dockerd; run as root so docker.io can be installed" >&2
        exit 1
    fi
    say "installing Debian's docker.io (apt-get update first)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's maintainer scripts try to start the service; without an init system
    # they fail harmlessly, and we start dockerd below either way.
    apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
fi

start_dockerd() {
    say "starting dockerd $* (log: $LOG)"
    mkdir -p "$(dirname "$LOG")"
    # setsid: the engine must outlive this script and the make/pytest that called it.
    setsid nohup dockerd "$@" >>"$LOG" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq "$WAIT_SECONDS"); do
        if engine_answers; then
            say "engine answers (dockerd pid $pid)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "dockerd $* exited; last log lines:" >&2
            tail -n 15 "$LOG" >&2 || true
            return 1
        fi
        sleep 1
    done
    say "dockerd did not answer within ${WAIT_SECONDS}s; last log lines:" >&2
    tail -n 15 "$LOG" >&2 || true
    return 1
}

# A stale pid file from a dockerd that died with the previous session blocks a new one.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
fi

if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but not answering yet; waiting"
    for _ in $(seq "$WAIT_SECONDS"); do
        engine_answers && { say "engine answers"; exit 0; }
        sleep 1
    done
    say "dockerd runs but never answered; see $LOG" >&2
    exit 1
fi

# Some sandboxes have no usable netfilter; the demo only needs container-to-container
# traffic on a user-defined network and loopback port publishing, which work without it.
# --live-restore: containers (router, colours) keep serving while the daemon restarts.
start_dockerd --live-restore --userland-proxy=false || start_dockerd --live-restore --iptables=false --ip6tables=false
