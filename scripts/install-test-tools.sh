#!/usr/bin/env bash
# Everything the test suite needs beyond Node.js: the other official Batch
# clients (install-client-tools.sh), container nodes (install-container-tools.sh)
# and the dashboard test's browser (install-browser-tools.sh).
set -euo pipefail
here="$(dirname "$0")"
bash "$here/install-client-tools.sh"
bash "$here/install-container-tools.sh"
bash "$here/install-browser-tools.sh"
