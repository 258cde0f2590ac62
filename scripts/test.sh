#!/usr/bin/env bash
# Run every check CI runs, in order, stopping at the first failure:
#   1. cargo fmt --all -- --check
#   2. cargo clippy --release --workspace --all-targets -- -D warnings
#   3. cargo build --release -p basalt-server (the integration tests start
#      this binary; cargo builds only test targets for them)
#   4. the whole test suite, release profile:
#        cargo nextest run --release --workspace   (when cargo-nextest is installed)
#        cargo test --release --workspace          (otherwise)
#
#   scripts/test.sh [extra args for the test runner]
#
# Installs missing system packages first (scripts/deps.sh). Honours
# CARGO_TARGET_DIR; otherwise builds into target/ in the repository.
#
# Clippy and the tests use the same profile (release) and the same feature
# set (--workspace; `cargo tree` shows librocksdb-sys with the same features
# for -p basalt-server too), so RocksDB's C++ build (librocksdb-sys' build
# script, ~15 minutes on 2 cores) runs once and every step reuses it: clippy
# only adds metadata-only checks of the Rust crates. Timed here on 2026-11-23
# with the release build in place: the first clippy took 24 s ("Checking"
# every dependency, librocksdb-sys included, no C++ compiled, no new
# librocksdb-sys build dir), and the test build after it compiled nothing.
# (Build scripts are shared between check and build for crates outside the
# workspace; a workspace member's build script runs again under clippy, so
# never move C++ into a member crate.) Keep it that way: a step with another
# profile or other features (e.g. a plain `cargo test` without --release)
# would rebuild RocksDB from scratch.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/deps.sh test

steps=4
step_no=0
run_step() {
    local name="$1"
    shift
    step_no=$((step_no + 1))
    echo
    echo "==> [$step_no/$steps] $name: $*"
    local start=$SECONDS rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "==> [$step_no/$steps] $name FAILED (exit $rc) after $((SECONDS - start))s" >&2
        exit "$rc"
    fi
    echo "==> [$step_no/$steps] $name ok ($((SECONDS - start))s)"
}

run_step rustfmt cargo fmt --all -- --check
run_step clippy cargo clippy --release --workspace --all-targets -- -D warnings
run_step server cargo build --release -p basalt-server

if [ -z "${BASALT_NO_NEXTEST:-}" ] && cargo nextest --version >/dev/null 2>&1; then
    test_cmd=(cargo nextest run --release --workspace --no-fail-fast "$@")
else
    test_cmd=(cargo test --release --workspace --no-fail-fast "$@")
fi
echo
echo "==> [4/$steps] tests: ${test_cmd[*]}"
# exec, so the runner's own summary ("Summary [...] N tests run: N passed")
# is the last thing printed and its exit code is ours.
exec "${test_cmd[@]}"
