#!/usr/bin/env bash
# Installs what the container-node tests need: Podman with runc (Debian's
# default crun fails on hybrid cgroup hosts), debootstrap, and the Debian image
# the tests run nodes on (build-test-node-image.sh). Idempotent; quick when
# all is present. Debian/Ubuntu as root only: elsewhere the tests say why they skip.
set -euo pipefail

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "not root with apt-get: container-node tools not installed; those tests will be skipped"
  exit 0
fi
missing=()
for tool in podman runc debootstrap catatonit; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
bash "$(dirname "$0")/build-test-node-image.sh"
bash "$(dirname "$0")/build-test-node-base-image.sh"
echo "container-node tools present: podman, runc, the test images"
