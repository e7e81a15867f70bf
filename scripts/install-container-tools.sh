#!/usr/bin/env bash
# Installs what the container-node tests need: Podman with runc (Debian's
# default crun fails on hybrid cgroup hosts), debootstrap, the Debian image
# the tests run nodes on (build-test-node-image.sh), and Docker's daemon
# (Debian's docker.io), installed but never started as a service: the Docker
# tests start a daemon of their own (src/testkit/private-docker-daemon.ts).
# Idempotent; quick when all is present. Debian/Ubuntu as root only:
# elsewhere the tests say why they skip.
set -euo pipefail

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "not root with apt-get: container-node tools not installed; those tests will be skipped"
  exit 0
fi
missing=()
for tool in podman runc debootstrap catatonit; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
if [ ${#missing[@]} -gt 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  # Packages may not start their services (docker.io's daemon on the default socket) while installed here.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  # Nor at the next boot: the package enables its units, and a system-wide daemon is not what the tests asked for.
  if [[ " ${missing[*]} " == *" docker.io "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable docker.service docker.socket >/dev/null 2>&1 || true
  fi
fi
bash "$(dirname "$0")/build-test-node-image.sh"
bash "$(dirname "$0")/build-test-node-base-image.sh"
echo "container-node tools present: podman, runc, dockerd, the test images"
