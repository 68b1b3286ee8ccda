#!/usr/bin/env bash
# Installs the servers the deployment tier starts (PostgreSQL, Redis) from Debian's packages when this
# machine does not have them yet. The tier itself starts them on loopback and stops them at the end.
set -euo pipefail

have_postgres() {
    command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "the deployment tier needs ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
fi
echo "installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' own services are not wanted: the tier starts private servers in temporary folders.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for service in postgresql redis-server; do
    if command -v service >/dev/null 2>&1; then service "$service" stop >/dev/null 2>&1 || true; fi
done
