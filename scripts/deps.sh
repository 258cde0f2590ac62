#!/usr/bin/env bash
# Ensure everything Basalt needs to build, test and benchmark is installed.
#
#   scripts/deps.sh [build|test|bench]     (default: test, which covers all)
#
# Debian packages (checked first, installed through apt only when missing):
#   clang, libclang-dev  librocksdb-sys runs bindgen, which loads libclang at
#                        build time and needs clang's builtin headers
#   g++, make            RocksDB's C++ sources; jemalloc's configure/make
#   pkg-config           lets libz-sys and friends find system libraries
#   redis-tools          redis-cli and redis-benchmark (tests, bench)
#   redis-server         the reference server for tests and bench/run.sh
#   util-linux           taskset and setsid (bench/run.sh)
#   etcd-server          /usr/bin/etcd, which basalt-controller's etcd tests
#                        start on free ports (test mode)
#   chromium             (test) headless browser of the controller's dashboard
#                        test (crates/controller/tests/dashboard.rs runs
#                        /usr/bin/chromium --headless --dump-dom)
# A fresh Debian 12 machine with only Rust and gcc lacks clang, libclang-dev,
# redis-tools, redis-server, etcd-server and chromium.
#
# As root the missing packages are installed with apt-get; otherwise the exact
# `sudo apt-get install -y ...` line is printed and the script exits 1.
# Rust itself is never installed here: without cargo it says how to get it.
set -euo pipefail

mode="${1:-test}"
case "$mode" in
build | test | bench) ;;
*)
    echo "usage: $0 [build|test|bench]" >&2
    exit 2
    ;;
esac

say() { echo "deps: $*" >&2; }

# --- Rust -------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found. Install Rust with rustup (https://rustup.rs), then"
    say "open a new shell (or 'source \$HOME/.cargo/env') and run this again."
    exit 1
fi
if [ "$mode" = test ]; then
    missing_components=()
    cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
    if [ "${#missing_components[@]}" -gt 0 ]; then
        say "missing Rust components: ${missing_components[*]}"
        say "install them with: rustup component add ${missing_components[*]}"
        exit 1
    fi
fi

# --- Debian packages --------------------------------------------------------
# Is Debian package $1 installed? Falls back to "unknown → missing" without dpkg.
pkg_installed() {
    command -v dpkg-query >/dev/null 2>&1 &&
        [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
have() { command -v "$1" >/dev/null 2>&1; }

# libclang: the Debian package, or a libclang.so that clang-sys will find
# (LIBCLANG_PATH set, or one on the loader path) on a non-Debian system.
have_libclang() {
    pkg_installed libclang-dev && return 0
    [ -n "${LIBCLANG_PATH:-}" ] && return 0
    command -v dpkg-query >/dev/null 2>&1 && return 1
    ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'
}

need=()
have clang || need+=(clang)
have_libclang || need+=(libclang-dev)
have g++ || need+=(g++)
have make || need+=(make)
have pkg-config || need+=(pkg-config)
{ have redis-cli && have redis-benchmark; } || need+=(redis-tools)
have redis-server || need+=(redis-server)
if [ "$mode" = test ]; then
    have etcd || need+=(etcd-server)
    [ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ "$mode" = bench ]; then
    { have taskset && have setsid; } || need+=(util-linux)
    have python3 || need+=(python3)
fi

if [ "${#need[@]}" -gt 0 ]; then
    if ! have apt-get; then
        say "missing: ${need[*]} (Debian package names). This script installs"
        say "them only through apt; install the equivalents for your system."
        exit 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${need[*]}"
        echo "sudo apt-get install -y ${need[*]}"
        exit 1
    fi
    say "installing: ${need[*]}"
    # policy-rc.d on container images keeps redis-server's service from
    # starting; on a systemd machine Debian starts it on 6379 (and etcd on
    # 2379), which Basalt's tests and bench do not use.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

if [ "$mode" = test ] && ! cargo nextest --version >/dev/null 2>&1; then
    say "note: cargo-nextest not installed; tests run with 'cargo test'"
    say "      (optional: cargo install --locked cargo-nextest)"
fi
say "ok"
