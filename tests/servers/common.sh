#!/usr/bin/env bash
# Shared helpers of the test harness: package installation, free ports, the unprivileged
# user the servers run as, and waiting. Sourced by `tests/run-all.sh` and by the server
# scripts beside this file; defines functions only.

# Prints a harness message on stderr.
log() { printf '[run-all] %s\n' "$*" >&2; }

# Fails the run with a message.
die() { log "error: $*"; exit 1; }

# Installs Debian packages that are missing; runs `apt-get update` once per run.
# Usage: ensure_packages pkg...
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]} and not root: install them first"
    if [ -z "${SESSION_TEST_APT_UPDATED:-}" ]; then
        log "apt-get update"
        apt-get -o DPkg::Lock::Timeout=300 update -qq
        SESSION_TEST_APT_UPDATED=1
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}" >&2
}

# Prints a TCP port that is free on 127.0.0.1 now.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    while :; do
        port=$(( (RANDOM % 30000) + 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

# The unprivileged user servers run as when the harness runs as root.
SESSION_TEST_USER=${SESSION_TEST_USER:-sessiontest}

# Creates the unprivileged user when running as root and it does not exist.
ensure_test_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    id "$SESSION_TEST_USER" >/dev/null 2>&1 && return 0
    log "creating system user $SESSION_TEST_USER"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SESSION_TEST_USER"
}

# Runs a command as the unprivileged user (as root), or as the current user otherwise.
as_test_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$SESSION_TEST_USER" -- "$@"
    else
        "$@"
    fi
}

# Gives a directory to the unprivileged user (as root).
own_dir() {
    [ "$(id -u)" -eq 0 ] && chown -R "$SESSION_TEST_USER" "$1"
    return 0
}

# Waits until a command succeeds, up to N tenths of a second.
# Usage: wait_until TENTHS description cmd...
wait_until() {
    local tenths=$1 what=$2 i
    shift 2
    for ((i = 0; i < tenths; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "timed out waiting for $what"
}

# Prints a random alphanumeric password.
random_password() {
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 24
}
