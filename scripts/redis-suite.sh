#!/usr/bin/env bash
# Redis 7.0.15's own TCL test suite against a fresh basalt-server.
#
#   scripts/redis-suite.sh                  every unit; rewrites the table in
#                                           docs/compatibility.md
#   scripts/redis-suite.sh unit/type/list   named units only (docs untouched
#                                           unless SUITE_WRITE_DOC=1)
#
# A developer tool, not part of CI: the suite is Redis's code and is never
# committed. Get it once (see ../shared/redis-tcl/README.md): the search
# tool's `fetch github:redis/redis` prints a git directory, then
#   ../shared/redis-tcl/setup.sh <that git dir>     # -> /tmp/redis-tcl-suite
#
# Each attempt starts basalt-server on a free 127.0.0.1 port with a temporary
# data dir and runs ../shared/redis-tcl/run.sh over the units still to run.
# When a unit takes the server down (or leaves it unable to answer PING),
# run.sh marks the rest "not run"; this script kills that server, starts a
# fresh one and goes on with the rest, so one crash does not hide the other
# units. The per-unit results of all attempts are merged into one report.
#
# Environment:
#   BASALT_BIN=path        server binary (default: target/release/basalt-server,
#                          built with cargo when missing)
#   REDIS_TCL=dir          the runner (default: ../shared/redis-tcl)
#   TCL_SUITE=dir          the extracted suite (default: /tmp/redis-tcl-suite)
#   SUITE_OUT=dir          merged results (default: a new /tmp/basalt-suite.*)
#   SUITE_DOC=path         page whose table is rewritten (docs/compatibility.md)
#   SUITE_WRITE_DOC=0|1    rewrite it (default: 1 for a whole run, 0 otherwise)
#   plus run.sh's own TCL_* settings (TCL_UNIT_TIMEOUT, TCL_TAGS, ...).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runner="${REDIS_TCL:-$root/../shared/redis-tcl}"
suite="${TCL_SUITE:-${TMPDIR:-/tmp}/redis-tcl-suite}"
doc="${SUITE_DOC:-$root/docs/compatibility.md}"

die() { echo "redis-suite: $*" >&2; exit 1; }

[ -x "$runner/run.sh" ] || die "no runner at $runner (set REDIS_TCL)"
[ -f "$suite/tests/test_helper.tcl" ] || die "no suite at $suite: fetch github:redis/redis, then $runner/setup.sh <git dir> (see $runner/README.md)"
command -v tclsh8.6 >/dev/null || command -v tclsh >/dev/null ||
    die "tclsh missing: apt-get install tcl8.6"
command -v redis-cli >/dev/null || die "redis-cli missing: apt-get install redis-tools"

if [ $# -gt 0 ]; then
    units=("$@")
    write_doc="${SUITE_WRITE_DOC:-0}"
else
    mapfile -t units < <(grep -v '^\s*#' "$runner/tcl-units.txt" | sed '/^\s*$/d')
    write_doc="${SUITE_WRITE_DOC:-1}"
fi

bin="${BASALT_BIN:-}"
if [ -z "$bin" ]; then
    target="${CARGO_TARGET_DIR:-$root/target}"
    bin="$target/release/basalt-server"
    [ -x "$bin" ] || (cd "$root" && cargo build --release -p basalt-server)
fi
[ -x "$bin" ] || die "$bin is not executable"

out="${SUITE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/basalt-suite.XXXXXX")}"
mkdir -p "$out"
: >"$out/units.tsv"

server_pid=""
data_dir=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -9 -- "-$server_pid" 2>/dev/null || kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    [ -n "$data_dir" ] && rm -rf "$data_dir"
    data_dir=""
}
trap stop_server EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() { # -> sets port
    data_dir="$(mktemp -d "${TMPDIR:-/tmp}/basalt-suite-data.XXXXXX")"
    port="$(free_port)"
    setsid "$bin" --bind 127.0.0.1 --port "$port" --dir "$data_dir" \
        >>"$out/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$out/server.log" >&2
    die "basalt-server did not start"
}

attempt=0
remaining=("${units[@]}")
while [ ${#remaining[@]} -gt 0 ]; do
    attempt=$((attempt + 1))
    start_server
    echo "redis-suite: attempt $attempt: ${#remaining[@]} unit(s) against $bin on port $port" >&2
    rundir="$out/attempt-$attempt"
    TCL_SUITE="$suite" TCL_UNITS="${remaining[*]}" TCL_RUNDIR="$rundir" \
        "$runner/run.sh" 127.0.0.1 "$port" >"$out/attempt-$attempt.txt" 2>&1 || true
    stop_server
    next=()
    while IFS=$'\t' read -r unit rc secs note; do
        if [[ "$note" == "not run"* ]]; then
            next+=("$unit")
            continue
        fi
        [ "$rc" = "-" ] && continue
        cp "$rundir/${unit//\//_}.log" "$out/${unit//\//_}.log"
        printf '%s\t%s\t%s\t%s\n' "$unit" "$rc" "$secs" "$note" >>"$out/units.tsv"
    done <"$rundir/units.tsv"
    # Safety net: a run.sh that stopped before recording a unit at all.
    [ ${#next[@]} -lt ${#remaining[@]} ] || die "attempt $attempt made no progress; see $out/attempt-$attempt.txt"
    remaining=("${next[@]}")
done

profile="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["profile"])' "$out/attempt-1/summary.json")"
python3 "$runner/lib/tcl_report.py" "$out" "$runner/tcl-expected.tsv" "$profile" full >"$out/report.txt"
sed -n '/^unit /,/^TOTAL/p' "$out/report.txt"
tail -n1 "$out/report.txt"
echo "redis-suite: $attempt server start(s); report $out/report.txt, failures $out/failures.txt" >&2

if [ "$write_doc" = 1 ]; then
    commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    dirty="$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | head -c1)"
    python3 "$root/scripts/redis_suite_report.py" "$out/summary.json" "$doc" \
        "$commit${dirty:+ with local changes}" "$attempt" "$(basename "$bin")"
    echo "redis-suite: wrote the table into $doc" >&2
fi
