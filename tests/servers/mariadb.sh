#!/usr/bin/env bash
# MariaDB for the tests: a throw-away data directory in DIR, `mariadbd` run as the
# unprivileged test user on 127.0.0.1 only, a password-protected account for the tests and
# the time-zone tables loaded (so `SET time_zone = 'Pacific/Kiritimati'` works).
#
# Sourced: defines mariadb_up DIR (install, start, create database and user, load time
# zones, export SESSION_TEST_MYSQL_URL and SESSION_TEST_MYSQL_CTL), mariadb_start DIR and
# mariadb_stop DIR.
# As a command (what SESSION_TEST_MYSQL_CTL runs): mariadb.sh start|stop DIR

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}

mariadb_ensure() {
    [ -x "$MARIADBD" ] && command -v mariadb-install-db >/dev/null 2>&1 \
        || ensure_packages mariadb-server mariadb-client
    [ -x "$MARIADBD" ] || die "no $MARIADBD after installing mariadb-server"
}

mariadb_client() {
    local dir=$1
    shift
    mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot "$@"
}

mariadb_start() {
    local dir=$1 port
    port=$(cat "$dir/port")
    local runas=()
    [ "$(id -u)" -eq 0 ] && runas=(runuser -u "$SESSION_TEST_USER" --)
    # setsid: the server must not belong to the caller's process group or terminal.
    setsid "${runas[@]}" "$MARIADBD" --no-defaults --datadir="$dir/data" --port="$port" \
        --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
        --log-error="$dir/server.log" --skip-name-resolve --innodb-buffer-pool-size=64M \
        --max-connections=300 </dev/null >/dev/null 2>&1 &
    local i
    for ((i = 0; i < 600; i++)); do
        mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    tail -n 20 "$dir/server.log" >&2
    die "mariadb did not start"
}

mariadb_stop() {
    local dir=$1 pid i
    [ -f "$dir/mysqld.pid" ] || return 0
    pid=$(cat "$dir/mysqld.pid")
    mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot shutdown >/dev/null 2>&1 \
        || kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    die "mariadb (pid $pid) did not stop"
}

mariadb_up() {
    local dir=$1 port password
    mariadb_ensure
    mkdir -p "$dir/data"
    port=$(free_port)
    password=$(random_password)
    echo "$port" >"$dir/port"
    own_dir "$dir"
    chmod 700 "$dir"
    log "mariadb: install-db in $dir"
    as_test_user mariadb-install-db --no-defaults --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
    mariadb_start "$dir"
    mariadb_client "$dir" <<SQL
CREATE DATABASE session_test;
CREATE USER 'session'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON session_test.* TO 'session'@'127.0.0.1';
SQL
    log "mariadb: loading time zone tables"
    mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb_client "$dir" mysql
    [ "$(mariadb_client "$dir" -N -e "SELECT CONVERT_TZ('2030-01-01 00:00:00','UTC','Pacific/Kiritimati')")" \
        = "2030-01-01 14:00:00" ] || die "mariadb time zone tables did not load"
    log "mariadb: listening on 127.0.0.1:$port"
    export SESSION_TEST_MYSQL_URL="mysql://session:$password@127.0.0.1:$port/session_test"
    local ctl="$dir/ctl"
    printf '#!/bin/sh\nexec bash %q "$1" %q\n' "$SESSION_TEST_SERVERS_DIR/mariadb.sh" "$dir" >"$ctl"
    chmod 755 "$ctl"
    export SESSION_TEST_MYSQL_CTL="$ctl"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    SESSION_TEST_SERVERS_DIR=$(cd "$(dirname "$0")" && pwd)
    source "$SESSION_TEST_SERVERS_DIR/common.sh"
    case "${1:-}" in
        start) mariadb_start "$2" ;;
        stop) mariadb_stop "$2" ;;
        *) die "usage: mariadb.sh start|stop DIR" ;;
    esac
fi
