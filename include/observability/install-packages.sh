#!/bin/sh
# Install Debian packages in an image build: no recommends, no service started by the
# packages' maintainer scripts (policy-rc.d), no apt lists left behind.
# Usage (in a Dockerfile): RUN install-packages PACKAGE...
set -eu
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d
