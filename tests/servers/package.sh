#!/usr/bin/env bash
# The packaging check: `cargo package` for the three published crates. Sourced by
# `tests/run-all.sh`; defines functions only.
#
# `cargo package -p session-spec -p session-derive -p session-runtime` packages the crates
# in dependency order into one temporary local registry that overlays crates.io (cargo's
# workspace packaging), so session-runtime resolves session-spec and session-derive although
# neither is published yet. `--no-verify` skips building the packaged crates (minutes on two
# cores); instead, every `include_str!`/`include_bytes!` of a literal path in a packaged
# source file must resolve to a file inside that crate's archive, the mistake `--no-verify`
# cannot see (a crate reading `../templates`). Full verification, by hand:
# `cargo package --allow-dirty -p session-spec -p session-derive -p session-runtime`.

# Packages the crates; fails the run, with cargo's output, when any step fails.
package_crates() {
    local out dir crate tmp file rel target missing=()
    log "cargo package (session-spec, session-derive, session-runtime)"
    if ! out=$(cargo package --no-verify --allow-dirty \
        -p session-spec -p session-derive -p session-runtime 2>&1); then
        printf '%s\n' "$out" >&2
        die "cargo package failed: the crates cannot be published as they are"
    fi
    printf '%s\n' "$out" | grep -E '^ *(Packaging|Packaged)' >&2 || true
    dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/package
    tmp=$(mktemp -d /tmp/session-package.XXXXXX)
    for crate in session-spec session-derive session-runtime; do
        tar -xzf "$dir/$crate-0.1.0.crate" -C "$tmp" ||
            { rm -rf "$tmp"; die "$dir/$crate-0.1.0.crate: not a readable archive"; }
        while IFS= read -r -d '' file; do
            while IFS= read -r rel; do
                target=$(realpath -m "$(dirname "$file")/$rel")
                case "$target" in
                "$tmp/$crate-0.1.0/"*) [ -f "$target" ] || missing+=("${file#"$tmp"/}: $rel") ;;
                *) missing+=("${file#"$tmp"/}: $rel (outside the crate)") ;;
                esac
            done < <(grep -oE 'include_(str|bytes)!\("[^"]+"\)' "$file" |
                sed -E 's/^include_(str|bytes)!\("(.*)"\)$/\2/')
        done < <(find "$tmp/$crate-0.1.0" -name '*.rs' -print0)
    done
    rm -rf "$tmp"
    if [ ${#missing[@]} -gt 0 ]; then
        printf '  %s\n' "${missing[@]}" >&2
        die "packaged crates include files they do not contain (listed above)"
    fi
    log "cargo package: 3 crates packaged, every included file inside its crate"
}
