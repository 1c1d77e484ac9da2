#!/usr/bin/env bash
# Redis for the tests (the examples' custom store): `redis-server` as the unprivileged test
# user on 127.0.0.1 only, no persistence.
#
# Sourced: defines redis_up DIR (start, export SESSION_TEST_REDIS_URL and
# SESSION_TEST_REDIS_CTL), redis_start DIR and redis_stop DIR.
# As a command (what SESSION_TEST_REDIS_CTL runs): redis.sh start|stop DIR

redis_start() {
    local dir=$1 port
    port=$(cat "$dir/port")
    as_test_user redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/server.log" --dir "$dir" \
        || die "redis-server did not start"
    wait_until 300 "redis on port $port" redis-cli -h 127.0.0.1 -p "$port" ping
}

redis_stop() {
    local dir=$1 pid i
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    redis-cli -h 127.0.0.1 -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 \
        || kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    die "redis (pid $pid) did not stop"
}

redis_up() {
    local dir=$1 port
    command -v redis-server >/dev/null 2>&1 || ensure_packages redis-server
    mkdir -p "$dir"
    port=$(free_port)
    echo "$port" >"$dir/port"
    own_dir "$dir"
    redis_start "$dir"
    log "redis: listening on 127.0.0.1:$port"
    export SESSION_TEST_REDIS_URL="redis://127.0.0.1:$port/"
    local ctl="$dir/ctl"
    printf '#!/bin/sh\nexec bash %q "$1" %q\n' "$SESSION_TEST_SERVERS_DIR/redis.sh" "$dir" >"$ctl"
    chmod 755 "$ctl"
    export SESSION_TEST_REDIS_CTL="$ctl"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    SESSION_TEST_SERVERS_DIR=$(cd "$(dirname "$0")" && pwd)
    source "$SESSION_TEST_SERVERS_DIR/common.sh"
    case "${1:-}" in
        start) redis_start "$2" ;;
        stop) redis_stop "$2" ;;
        *) die "usage: redis.sh start|stop DIR" ;;
    esac
fi
