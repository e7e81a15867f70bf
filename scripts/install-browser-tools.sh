#!/usr/bin/env bash
# Installs the browser the dashboard test drives (test/integration/dashboard.test.ts):
# Debian's chromium at /usr/bin/chromium, which playwright-core launches by its
# path (Playwright's own browser downloads are not reachable here).
# Idempotent and quick when it is present. Debian/Ubuntu only (apt-get).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "browser present: chromium"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: chromium not installed; the dashboard test will be skipped"
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -qq)
[ "$(id -u)" -eq 0 ] || APT=(sudo "${APT[@]}")
echo "installing: chromium"
"${APT[@]}" update
"${APT[@]}" install -y --no-install-recommends chromium
/usr/bin/chromium --version
echo "browser installed: chromium"
