#!/usr/bin/env bash
# Build basalt-server (release) and start it in the current directory.
#
#   scripts/run-server.sh [path/to/basalt.conf] [--option value ...]
#
# With no arguments it serves on 127.0.0.1:6666 with its data in ./basalt-data
# (relative to where you run this). Arguments go to basalt-server unchanged.
# Honours CARGO_TARGET_DIR; otherwise builds into target/ in the repository.
# The first build compiles RocksDB from C++ sources (~15 minutes on 2 cores).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/deps.sh" build

# Build from the repository but do not cd there: relative paths in "$@"
# (config file, --dir) stay relative to the caller's directory.
cargo build --release -p basalt-server --manifest-path "$root/Cargo.toml"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
# cargo resolves a relative CARGO_TARGET_DIR against the current directory.
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/release/basalt-server"
if [ ! -x "$bin" ]; then
    echo "run-server: built, but $bin is missing" >&2
    exit 1
fi
exec "$bin" "$@"
