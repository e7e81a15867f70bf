#!/usr/bin/env bash
# Installs the two other official Batch clients CI judges Lapis with:
# Python azure-batch (Debian python3-azure) and the az CLI (Debian azure-cli).
# Idempotent and quick when both are present. Debian/Ubuntu only (apt-get).
set -euo pipefail

# Debian's python3-azure lives in /usr/lib/python3/dist-packages: check with the
# system interpreter, not a pyenv/venv python3 that may come first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

missing=()
"$PY" -c 'import azure.batch, azure.storage.blob' >/dev/null 2>&1 || missing+=(python3-azure)
command -v az >/dev/null 2>&1 || missing+=(azure-cli)
if [ ${#missing[@]} -eq 0 ]; then
  echo "client tools present: python3-azure, azure-cli"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: ${missing[*]} not installed; the tests that need them will be skipped"
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -qq)
[ "$(id -u)" -eq 0 ] || APT=(sudo "${APT[@]}")
echo "installing: ${missing[*]}"
"${APT[@]}" update
"${APT[@]}" install -y --no-install-recommends "${missing[@]}"
"$PY" -c 'import azure.batch, azure.storage.blob'
command -v az >/dev/null
echo "client tools installed: python3-azure, azure-cli"
