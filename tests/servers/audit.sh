#!/usr/bin/env bash
# The dependency check: `cargo audit` (RustSec) over the workspace's Cargo.lock. Sourced by
# `tests/run-all.sh`; defines functions only.
#
# cargo-audit is installed from crates.io when missing (`cargo install --locked`, a few
# minutes on a cold two-core machine). The advisory database lives in
# `SESSION_ADVISORY_DB` (default `~/.cargo/advisory-db`, cargo-audit's own place):
# - when it can be fetched (or is there already), the check runs against it and a known
#   vulnerability in any locked crate fails the run;
# - when it is absent and cannot be fetched (machines without access to its host), the
#   check is skipped with a banner on stderr and in the closing summary: never silently.
#   Put a copy of the database in `SESSION_ADVISORY_DB` to run it offline.
# Either way a self-test runs first, so that the check is known to be able to fail: with
# the made-up advisory of `tests/audit/selftest-db` (diesel before 2.3.10), cargo audit must
# refuse `tests/audit/vulnerable/Cargo.lock` and accept the workspace's Cargo.lock.

# Prints a banner that cannot be missed in a log.
banner() {
    local line
    printf '\n' >&2
    printf '%s\n' "######################################################################" >&2
    for line in "$@"; do printf '### %s\n' "$line" >&2; done
    printf '%s\n\n' "######################################################################" >&2
}

# Runs the check; fails the run on a known advisory. Sets `AUDIT_RESULT` for the summary.
audit_dependencies() {
    local db=${SESSION_ADVISORY_DB:-$HOME/.cargo/advisory-db} out rc
    if ! cargo audit --version >/dev/null 2>&1; then
        log "installing cargo-audit (cargo install --locked cargo-audit)"
        cargo install --locked --quiet cargo-audit || die "cannot install cargo-audit"
    fi
    log "dependency check: $(cargo audit --version)"
    audit_selftest
    if [ ! -e "$db/crates" ]; then
        log "advisory database missing at $db: fetching it"
        set +e
        out=$(timeout 120 cargo audit --db "$db" 2>&1)
        rc=$?
        set -e
        if [ ! -e "$db/crates" ]; then
            AUDIT_RESULT="SKIPPED: the RustSec advisory database could not be fetched"
            banner "DEPENDENCY CHECK SKIPPED" \
                "The RustSec advisory database is not on this machine and could not be" \
                "fetched (exit $rc). No advisory was checked. Put a copy of the database" \
                "in \$SESSION_ADVISORY_DB (default ~/.cargo/advisory-db) to run it offline." \
                "cargo audit said: $(printf '%s' "$out" | grep -m1 -i error || printf '%s' "$out" | tail -n 1)"
            return 0
        fi
    fi
    # The database is there: a vulnerability fails the run; warnings (unmaintained crates)
    # are printed but do not.
    if cargo audit --db "$db" --no-fetch --stale; then
        AUDIT_RESULT="clean (cargo audit, database at $db)"
    else
        die "cargo audit found known advisories in Cargo.lock (see above)"
    fi
}

# Proves the check can fail: a made-up advisory against a lock file with the old diesel.
audit_selftest() {
    local fixtures=tests/audit out
    if out=$(cargo audit --db "$fixtures/selftest-db" --no-fetch --stale \
        -f "$fixtures/vulnerable/Cargo.lock" 2>&1); then
        die "dependency check self-test: cargo audit accepted a lock file with a known advisory"
    fi
    printf '%s' "$out" | grep -q RUSTSEC-2026-9999 \
        || die "dependency check self-test: cargo audit failed without naming the advisory: $out"
    cargo audit --db "$fixtures/selftest-db" --no-fetch --stale --quiet >/dev/null 2>&1 \
        || die "dependency check self-test: the workspace's Cargo.lock matches the self-test advisory"
    log "dependency check self-test: a known advisory is refused, the workspace's lock file passes"
}
