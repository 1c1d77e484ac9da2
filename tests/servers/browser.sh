#!/usr/bin/env bash
# Headless Chromium and chromedriver for the examples' browser test
# (`examples/tests/it/browser.rs`). Sourced by `tests/run-all.sh`; defines functions only.

# Installs Debian's `chromium` and `chromium-driver` when missing and exports their paths as
# `CHROMIUM` and `CHROMEDRIVER` (an already exported path is kept). The test starts
# chromedriver itself on a loopback port and fails, never skips, without them.
browser_setup() {
    ensure_packages chromium chromium-driver
    CHROMIUM=${CHROMIUM:-$(command -v chromium)} || die "chromium not found after install"
    CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)} || die "chromedriver not found after install"
    export CHROMIUM CHROMEDRIVER
    log "browser: $("$CHROMEDRIVER" --version 2>/dev/null | head -n 1)"
}
