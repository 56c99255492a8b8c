#!/usr/bin/env bash
# Make sure Debian's chromium is installed for accessibility audits and browser tests;
# idempotent. Playwright drives it through its executable path, so no browser is downloaded.
set -euo pipefail

say() { echo "ensure-chromium: $*"; }

if command -v chromium >/dev/null 2>&1; then
    say "chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "chromium is missing; run as root so Debian's chromium can be installed" >&2
    exit 1
fi
say "installing Debian's chromium (apt-get update first)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
say "installed: $(chromium --version)"
