#!/bin/sh
# Installs Debian's Slurm (slurm-wlm) and munge, for the bench's Slurm
# comparison only (`npm run bench -- --install-slurm`, or run this first).
# Opt-in: neither the tests nor CI's quick bench need Slurm. The bench starts
# its own single-host cluster with a configuration, munge key and socket in
# a scratch directory; the packages' own services are not used.
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "install-slurm.sh: run as root (apt-get install slurm-wlm munge)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends slurm-wlm munge || { apt-get update && apt-get install -y --no-install-recommends slurm-wlm munge; }
