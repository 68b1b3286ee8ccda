#!/usr/bin/env bash
# Installs the browser the UI tier drives (Debian's chromium) when this machine does not have it yet.
# Playwright's own browser download cannot be used: the tier launches /usr/bin/chromium instead.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "the UI tier needs chromium: install it (apt-get install chromium) or run as root" >&2
    exit 1
fi
echo "installing chromium from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
