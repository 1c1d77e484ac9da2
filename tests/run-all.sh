#!/usr/bin/env bash
# THE test command (README, `.ci/run`): runs every test of the workspace on a fresh machine.
#
# As root it installs what is missing (apt-get), starts the servers the tests need on
# loopback as an unprivileged user in a temporary directory, exports their URLs
# (`SESSION_TEST_POSTGRES_URL`, `SESSION_TEST_MYSQL_URL`, `SESSION_TEST_REDIS_URL`) and the
# scripts that stop and start them again (`SESSION_TEST_*_CTL`, taking `stop` or `start`,
# used by the outage tests) and the browser's paths (`CHROMIUM`, `CHROMEDRIVER`), runs
# `cargo test --workspace --all-features`, and stops every server on exit, whatever happens.
# Before the servers start, `cargo audit` checks Cargo.lock for known advisories
# (`tests/servers/audit.sh`: a hit fails the run; an advisory database that cannot be had
# skips the check with a banner, never silently), and `cargo package` must package the three
# published crates (`tests/servers/package.sh`).
# Tests that need a server fail, never skip, without it.
#
# Usage: bash tests/run-all.sh [extra cargo test arguments, e.g. -p session-runtime --test it db]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SESSION_TEST_SERVERS_DIR="$ROOT/tests/servers"
source "$SESSION_TEST_SERVERS_DIR/common.sh"
source "$SESSION_TEST_SERVERS_DIR/postgres.sh"
source "$SESSION_TEST_SERVERS_DIR/mariadb.sh"
source "$SESSION_TEST_SERVERS_DIR/redis.sh"
source "$SESSION_TEST_SERVERS_DIR/browser.sh"
source "$SESSION_TEST_SERVERS_DIR/audit.sh"
source "$SESSION_TEST_SERVERS_DIR/package.sh"

RUN_DIR=$(mktemp -d /tmp/session-test.XXXXXX)
chmod 755 "$RUN_DIR"
STARTED=()

# Stops every server started so far (last started first) and removes their data.
cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        log "stopping ${STARTED[i]}"
        "${STARTED[i]}_stop" "$RUN_DIR/${STARTED[i]}" || log "could not stop ${STARTED[i]}"
    done
    rm -rf "$RUN_DIR"
    [ -n "${AUDIT_RESULT:-}" ] && log "dependency check: $AUDIT_RESULT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts one server: `start_server NAME` calls NAME_up with its own directory and records
# it for cleanup first, so a server that fails half-way is stopped too.
start_server() {
    mkdir -p "$RUN_DIR/$1"
    STARTED+=("$1")
    "$1_up" "$RUN_DIR/$1"
}

# Build dependencies of the database stores (libpq and the MySQL client library).
prepare_build() {
    ensure_packages libpq-dev libmariadb-dev libmariadb-dev-compat pkg-config
}

prepare_build
audit_dependencies
package_crates
ensure_test_user
start_server postgres
start_server mariadb
start_server redis
browser_setup

# `-p NAME` among the extra arguments narrows the run to that package (with `--workspace`
# cargo would still test every package).
scope=(--workspace)
for arg in "$@"; do
    case "$arg" in
        -p | --package | -p* | --package=*) scope=() ;;
    esac
done
cargo test "${scope[@]}" --all-features "$@"
