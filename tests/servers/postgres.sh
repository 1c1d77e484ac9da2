#!/usr/bin/env bash
# PostgreSQL for the tests: a throw-away cluster in DIR, run as the unprivileged test user,
# listening on 127.0.0.1 only, with password (SCRAM) authentication over TCP.
#
# Sourced: defines postgres_up DIR (init, start, create the database, export
# SESSION_TEST_POSTGRES_URL and SESSION_TEST_POSTGRES_CTL), postgres_start DIR and
# postgres_stop DIR.
# As a command (what SESSION_TEST_POSTGRES_CTL runs): postgres.sh start|stop DIR

postgres_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do :; done # the highest version sorts last
    if [ -x "${dir:-}/pg_ctl" ]; then echo "$dir"; return; fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
        pg_config --bindir; return
    fi
    return 1
}

# Installs the server when no PostgreSQL binaries are found.
postgres_ensure() {
    postgres_bindir >/dev/null || ensure_packages postgresql
    postgres_bindir >/dev/null || die "no PostgreSQL server binaries found after installing"
}

postgres_start() {
    local dir=$1 bin port
    bin=$(postgres_bindir) || die "no PostgreSQL server binaries"
    port=$(cat "$dir/port")
    as_test_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock" start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2; die "postgresql did not start"; }
}

postgres_stop() {
    local dir=$1 bin pid i
    bin=$(postgres_bindir) || return 0
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    as_test_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null \
        || log "pg_ctl stop failed; signalling postmaster $pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        [ "$(ps -o stat= -p "$pid" 2>/dev/null)" = Z ] && return 0
        [ "$i" -eq 50 ] && kill -QUIT "$pid" 2>/dev/null
        sleep 0.1
    done
    die "postgresql (pid $pid) did not stop"
}

postgres_up() {
    local dir=$1 bin port password
    postgres_ensure
    bin=$(postgres_bindir)
    mkdir -p "$dir/sock"
    port=$(free_port)
    password=$(random_password)
    echo "$port" >"$dir/port"
    echo "$password" >"$dir/pwfile"
    own_dir "$dir"
    chmod 700 "$dir"
    log "postgresql: initdb in $dir ($bin)"
    as_test_user "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    postgres_start "$dir"
    as_test_user "$bin/psql" -X -q -h "$dir/sock" -p "$port" -U postgres -d postgres \
        -c 'CREATE DATABASE session_test' >/dev/null
    log "postgresql: listening on 127.0.0.1:$port"
    export SESSION_TEST_POSTGRES_URL="postgres://postgres:$password@127.0.0.1:$port/session_test"
    local ctl="$dir/ctl"
    printf '#!/bin/sh\nexec bash %q "$1" %q\n' "$SESSION_TEST_SERVERS_DIR/postgres.sh" "$dir" >"$ctl"
    chmod 755 "$ctl"
    export SESSION_TEST_POSTGRES_CTL="$ctl"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    SESSION_TEST_SERVERS_DIR=$(cd "$(dirname "$0")" && pwd)
    source "$SESSION_TEST_SERVERS_DIR/common.sh"
    case "${1:-}" in
        start) postgres_start "$2" ;;
        stop) postgres_stop "$2" ;;
        *) die "usage: postgres.sh start|stop DIR" ;;
    esac
fi
