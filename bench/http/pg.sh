#!/usr/bin/env bash
# PostgreSQL for the HTTP benchmark: a throw-away cluster on loopback, started and stopped
# with the test command's own scripts (tests/servers/postgres.sh: run as an unprivileged
# user, since the server refuses root; password authentication over TCP).
#
# Usage: bash bench/http/pg.sh up DIR    (prints the database URL as its last line)
#        bash bench/http/pg.sh down DIR  (stops the server and removes DIR)
set -euo pipefail
SESSION_TEST_SERVERS_DIR=$(cd "$(dirname "$0")/../../tests/servers" && pwd)
source "$SESSION_TEST_SERVERS_DIR/common.sh"
source "$SESSION_TEST_SERVERS_DIR/postgres.sh"
case "${1:-}" in
    up)
        mkdir -p "$2"
        chmod 755 "$2"
        ensure_test_user
        postgres_up "$2/pg" >&2
        echo "$SESSION_TEST_POSTGRES_URL"
        ;;
    down)
        postgres_stop "$2/pg" || true
        rm -rf "$2"
        ;;
    *) die "usage: pg.sh up|down DIR" ;;
esac
