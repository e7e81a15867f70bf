# Lapis itself in a container: the packed package (`npm pack`: compiled dist/,
# no sources) with its production dependencies at the lockfile's versions, on
# a Node.js 20 image, serving on every address with its data in a volume.
#
#   npm pack                       # lapis-<version>.tgz beside this file
#   podman build -t lapis .        # or: docker build -t lapis .
#   podman run -d -p 10100:10100 -p 10000:10000 -v lapis-data:/var/lib/lapis lapis
#
# BASE: a Debian-based image with Node.js 20 and npm (the official node
# images); the tests build one locally (scripts/build-test-node-base-image.sh)
# where no image registry is reachable.
ARG BASE=docker.io/library/node:20-bookworm-slim

# The dependencies in layers of their own, rebuilt only when package.json or
# package-lock.json change, not on every change to Lapis's code.
# better-sqlite3 fetches its prebuilt binary from GitHub, or is compiled where
# GitHub cannot be reached: hence python3, make and g++ in this stage only,
# and the headers of the image's own Node.js where it has them (the official
# images do), which node-gyp would otherwise fetch from nodejs.org.
FROM ${BASE} AS dependencies
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/lapis
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` builds dist/ from sources, which the packed package already holds.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && if [ -f /usr/local/include/node/common.gypi ]; then export npm_config_nodedir=/usr/local; fi \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

FROM ${BASE}
COPY --from=dependencies /opt/lapis/node_modules /opt/lapis/node_modules
# ADD unpacks the tarball (its files are under package/).
ADD lapis-*.tgz /opt/
RUN cp -a /opt/package/. /opt/lapis/ && rm -rf /opt/package \
 && ln -s /opt/lapis/bin/lapis.js /usr/local/bin/lapis \
 && lapis --version
# The Batch REST endpoint and the embedded blob endpoint.
EXPOSE 10100 10000
VOLUME /var/lib/lapis
# As root inside, tasks run as users of their own (useradd is in every Debian image).
ENV LAPIS_HOST=0.0.0.0 LAPIS_DATA=/var/lib/lapis
ENTRYPOINT ["lapis"]
CMD ["serve"]
