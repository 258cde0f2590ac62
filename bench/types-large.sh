#!/usr/bin/env bash
# The large-data tests of issue 13 item 10, kept out of the test suite
# (too slow for CI): a hash of TYPES_N fields all given a field TTL, and a
# stream of TYPES_N entries trimmed by MINID. Checks the results and writes
# timings to bench/out/types-large/result.txt.
#
#   bench/types-large.sh                    10 million of each
#   TYPES_N=100000 bench/types-large.sh     a quick run
#
# Environment: TYPES_N (default 10000000), TYPES_PORT (16791),
# BASALT_BIN (default: builds and runs the release basalt-server),
# TYPES_TMPDIR (default /var/tmp), TYPES_OUT (default bench/out/types-large).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${TYPES_N:-10000000}
port=${TYPES_PORT:-16791}
out=${TYPES_OUT:-$root/bench/out/types-large}
target=${CARGO_TARGET_DIR:-$root/target}
if [[ -z ${BASALT_BIN:-} ]]; then
    (cd "$root" && cargo build --release -p basalt-server)
    BASALT_BIN=$target/release/basalt-server
fi
mkdir -p "$out"
data=$(mktemp -d "${TYPES_TMPDIR:-/var/tmp}/types-large.XXXXXX")
"$BASALT_BIN" --port "$port" --bind 127.0.0.1 --dir "$data" >"$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 100); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done

# RESP commands for `redis-cli --pipe`, BATCH fields or entries a command.
gen() {
    python3 - "$1" "$n" <<'PY'
import sys
what, n = sys.argv[1], int(sys.argv[2])
batch = 1000
w = sys.stdout.buffer.write
def cmd(args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    w(b"".join(parts))
for start in range(0, n, batch):
    idx = range(start, min(start + batch, n))
    if what == "hset":
        args = ["HSET", "big:hash"]
        for i in idx:
            args += ["f%d" % i, "v%d" % i]
        cmd(args)
    elif what == "hexpire":
        cmd(["HEXPIRE", "big:hash", 86400, "FIELDS", len(idx)] + ["f%d" % i for i in idx])
    elif what == "xadd":
        for i in idx:
            cmd(["XADD", "big:stream", "%d-0" % (i + 1), "n", i])
PY
}

step() { # name, command...
    local name=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" >>"$out/steps.log" 2>&1
    t1=$(date +%s.%N)
    printf '%-32s %8.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)" | tee -a "$out/result.txt"
}
check() { # description, expected, actual
    if [[ $2 == "$3" ]]; then echo "ok   $1 = $3"; else echo "FAIL $1: expected $2, got $3"; fi |
        tee -a "$out/result.txt"
}

: >"$out/result.txt"
: >"$out/steps.log"
echo "N=$n $(date -u +%FT%TZ) $(git -C "$root" rev-parse --short HEAD)" | tee -a "$out/result.txt"
step "HSET $n fields" bash -c "$(declare -f gen); n=$n; gen hset | redis-cli -p $port --pipe"
step "HEXPIRE $n fields" bash -c "$(declare -f gen); n=$n; gen hexpire | redis-cli -p $port --pipe"
check "HLEN big:hash" "$n" "$(cli HLEN big:hash)"
ttl=$(cli HTTL big:hash FIELDS 1 f$((n - 1)))
check "HTTL of the last field > 86000" 1 "$((ttl > 86000))"
step "HPERSIST one field" cli HPERSIST big:hash FIELDS 1 f0
check "HTTL f0 after HPERSIST" -1 "$(cli HTTL big:hash FIELDS 1 f0)"
step "XADD $n entries" bash -c "$(declare -f gen); n=$n; gen xadd | redis-cli -p $port --pipe"
check "XLEN big:stream" "$n" "$(cli XLEN big:stream)"
half=$((n / 2))
step "XTRIM MINID $((half + 1))" cli XTRIM big:stream MINID $((half + 1))
check "XLEN after XTRIM MINID" "$((n - half))" "$(cli XLEN big:stream)"
check "first entry after XTRIM" "$((half + 1))-0" "$(cli --raw XRANGE big:stream - + COUNT 1 | head -1)"
step "DEL big:hash big:stream" cli DEL big:hash big:stream
echo "data directory: $(du -sh "$data" | cut -f1)" | tee -a "$out/result.txt"
! grep -q FAIL "$out/result.txt"
