# Sourced by the az checks: an isolated az configuration, the Batch account
# flags, and small assertion helpers. Endpoints and keys come from BATCH_URL,
# BATCH_ACCOUNT and BATCH_KEY. A script sets POOL, JOB and SCHEDULE to the ids it
# creates and clears them once it has deleted them; on a failure they are deleted at exit.

: "${BATCH_URL:?set BATCH_URL}" "${BATCH_ACCOUNT:?set BATCH_ACCOUNT}" "${BATCH_KEY:?set BATCH_KEY}"

# A throwaway config dir: no login, no telemetry, no update check, no colour.
AZURE_CONFIG_DIR="$(mktemp -d)"
export AZURE_CONFIG_DIR AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_ONLY_SHOW_ERRORS=yes AZURE_CORE_NO_COLOR=yes
WORK="$(mktemp -d)" POOL="" JOB="" SCHEDULE="" AZ_SOCKET="" AZ_SERVER_PID=""
on_exit() {
  if [ -n "$SCHEDULE" ]; then azb job-schedule delete --job-schedule-id "$SCHEDULE" --yes -o none >/dev/null 2>&1 || true; fi
  if [ -n "$JOB" ]; then azb job delete --job-id "$JOB" --yes -o none >/dev/null 2>&1 || true; fi
  if [ -n "$POOL" ]; then azb pool delete --pool-id "$POOL" --yes -o none >/dev/null 2>&1 || true; fi
  if [ -n "$AZ_SERVER_PID" ]; then kill "$AZ_SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$AZURE_CONFIG_DIR" "$WORK"
}
trap on_exit EXIT
# A fresh config dir makes az look up its latest version online (a HEAD to
# azure.microsoft.com, then GitHub); a version cache saying "up to date" stops that.
AZ_VERSION="$(/usr/bin/python3 -c 'from azure.cli.core import __version__; print(__version__)' 2>/dev/null || true)"
if [ -n "$AZ_VERSION" ]; then
  printf '{"versions": {"azure-cli": {"local": "%s", "pypi": "%s"}, "core": {"local": "%s", "pypi": "%s"}}, "update_time": "%s"}' \
    "$AZ_VERSION" "$AZ_VERSION" "$AZ_VERSION" "$AZ_VERSION" "$(date '+%Y-%m-%d %H:%M:%S.000000')" > "$AZURE_CONFIG_DIR/versionCheck.json"
fi
# One az for the whole script (az_server.py, the CLI's own in-process entry
# point): started afresh, az spends ~0.7 s of CPU loading itself for every
# command. LAPIS_AZ_SERVER=0 starts az for every command instead.
LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${LAPIS_AZ_SERVER:-1}" != 0 ] && [ -x /usr/bin/python3 ]; then
  AZ_INSTALLER=DEB /usr/bin/python3 "$LIB_DIR/az_server.py" "$WORK/az.sock" </dev/null >"$WORK/az-server.log" 2>&1 &
  AZ_SERVER_PID=$!
  for _ in $(seq 600); do
    if [ -S "$WORK/az.sock" ]; then AZ_SOCKET="$WORK/az.sock"; break; fi
    kill -0 "$AZ_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$AZ_SOCKET" ]; then
    echo "az server did not start, running az for every command: $(cat "$WORK/az-server.log")"
    kill "$AZ_SERVER_PID" 2>/dev/null || true
    AZ_SERVER_PID=""
  fi
fi
# az through the script's az server, or az itself.
az_run() {
  if [ -n "$AZ_SOCKET" ]; then /usr/bin/python3 -S "$LIB_DIR/az_client.py" "$AZ_SOCKET" "$@"; else az "$@"; fi
}

# Fail with the step that broke (errtrace: also inside functions).
set -E
STEP="start"
trap 'echo "FAIL $STEP (${BASH_SOURCE[0]##*/}:$LINENO)"' ERR

step() { STEP="$*"; echo "-- $STEP"; }
pass() { echo "PASS $STEP"; }
fail() { echo "FAIL $STEP: $*"; exit 1; }

# az batch with the account given on the command line, as the README shows.
azb() { az_run batch "$@" --account-name "$BATCH_ACCOUNT" --account-key "$BATCH_KEY" --account-endpoint "$BATCH_URL"; }

expect_eq() { [ "$1" = "$2" ] || fail "expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "expected output containing '$2', got: $1" ;; esac; }

# Runs an az command that must fail; its stderr must contain the text.
expect_error() {
  local text="$1" err
  shift
  if err="$("$@" 2>&1 >/dev/null)"; then fail "expected an error containing '$text', but the command succeeded"; fi
  expect_contains "$err" "$text"
}

# Polls a command until its output equals the expected value (60 s).
wait_for() {
  local expected="$1" got="" deadline=$((SECONDS + 60))
  shift
  while [ "$SECONDS" -lt "$deadline" ]; do
    got="$("$@")" && [ "$got" = "$expected" ] && return 0
    sleep 0.2
  done
  fail "timed out waiting for '$expected', last got '$got'"
}

unique() { echo "$1-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"; }
