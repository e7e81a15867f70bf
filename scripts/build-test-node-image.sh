#!/usr/bin/env bash
# The image container-node tests run on: Debian bookworm (minbase) built here
# with debootstrap and imported into Podman, since no image registry is
# reachable. Does nothing when the image exists. Needs root, podman, debootstrap.
set -euo pipefail
IMAGE=localhost/lapis-test/debian:bookworm
if podman image exists "$IMAGE"; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
tar -C "$work/rootfs" -c . | podman import - "$IMAGE" >/dev/null
echo "built $IMAGE"
