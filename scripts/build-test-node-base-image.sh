#!/usr/bin/env bash
# The base image the Dockerfile test builds Lapis's own image from, standing in
# for `node:20-bookworm-slim` where no image registry is reachable: the test
# Debian image (build-test-node-image.sh) with this machine's Node.js, its
# headers (for compiling better-sqlite3, when this machine has them) and npm
# copied in where the official Node images keep them (/usr/local), and this
# machine's CA bundle (a network whose TLS proxy has its own CA is trusted
# inside as outside; the official images carry Debian's bundle). Does nothing
# when the image exists. Needs root, podman and the Debian image. A Node.js
# that cannot run alone in that image (Debian's own package links libnode and
# other shared libraries) leaves no image: the test that needs it says so and
# is skipped.
set -euo pipefail
IMAGE=localhost/lapis-test/node:20-bookworm
DEBIAN=localhost/lapis-test/debian:bookworm
if podman image exists "$IMAGE"; then exit 0; fi
bash "$(dirname "$0")/build-test-node-image.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node=$(readlink -f "$(command -v node)")
cp "$node" "$work/node"
# npm's own package directory: <it>/bin/npm-cli.js is what `npm` links to.
cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$work/npm"
headers="$(dirname "$(dirname "$node")")/include/node"
if [ -f "$headers/common.gypi" ]; then cp -a "$headers" "$work/include"; else mkdir "$work/include"; fi
cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$work/ca-certificates.crt"
cat >"$work/Containerfile" <<CONTAINERFILE
FROM $DEBIAN
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
CONTAINERFILE
if ! podman build --quiet --runtime runc -t "$IMAGE" "$work" >"$work/build.log" 2>&1; then
  tail -5 "$work/build.log"
  echo "could not build $IMAGE from this machine's Node.js ($node): the container-image test will be skipped"
  exit 0
fi
echo "built $IMAGE"
