#!/usr/bin/env bash
# The large-data tests of issue 13 item 10, kept out of the test suite
# (too slow for CI): a hash of TYPES_N fields all given a field TTL, then
# expired and reclaimed by the background cycle; and a stream of TYPES_N
# entries trimmed by MINID. Checks every result, samples the server's RSS
# once a second, and writes the table between the types-large markers of
# docs/benchmarks.md (raw results in bench/out/types-large).
#
#   bench/types-large.sh                    10 million of each
#   TYPES_N=100000 bench/types-large.sh     a quick run
#
# Environment: TYPES_N (default 10000000), TYPES_PORT (16791),
# TYPES_PARTS ("hash stream", the default, or one of them: each part then
# gets its own table),
# BASALT_BIN (default: builds and runs the release basalt-server),
# TYPES_TMPDIR (default /var/tmp), TYPES_OUT (default bench/out/types-large),
# TYPES_RECLAIM_WAIT (seconds to wait for the reclamation, default 2400),
# BENCH_DOC (page to write into, default docs/benchmarks.md; "-" for none).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${TYPES_N:-10000000}
parts=${TYPES_PARTS:-hash stream}
port=${TYPES_PORT:-16791}
out=${TYPES_OUT:-$root/bench/out/types-large}
doc=${BENCH_DOC:-$root/docs/benchmarks.md}
reclaim_wait=${TYPES_RECLAIM_WAIT:-2400}
target=${CARGO_TARGET_DIR:-$root/target}
if [[ -z ${BASALT_BIN:-} ]]; then
    (cd "$root" && cargo build --release -p basalt-server)
    BASALT_BIN=$target/release/basalt-server
fi
mkdir -p "$out"
data=$(mktemp -d "${TYPES_TMPDIR:-/var/tmp}/types-large.XXXXXX")
"$BASALT_BIN" --port "$port" --bind 127.0.0.1 --dir "$data" >"$out/server.log" 2>&1 &
pid=$!
# VmRSS (kB) once a second for the whole run.
(while kill -0 "$pid" 2>/dev/null; do
    printf '%s\t%s\n' "$(date +%s)" "$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
    sleep 1
done) >"$out/rss.tsv" &
sampler=$!
trap 'rc=$?; kill "$pid" "$sampler" 2>/dev/null; wait "$pid" "$sampler" 2>/dev/null || true; rm -rf "$data"; exit $rc' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 100); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done

# RESP commands for `redis-cli --pipe`, 1000 fields or entries a command;
# gen WHAT FROM TO covers the fields or entries FROM..TO-1.
gen() {
    python3 - "$@" <<'PY'
import sys
what, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
batch = 1000
w = sys.stdout.buffer.write
def cmd(args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    w(b"".join(parts))
for start in range(lo, hi, batch):
    idx = range(start, min(start + batch, hi))
    if what == "hset":
        args = ["HSET", "big:hash"]
        for i in idx:
            args += ["f%d" % i, "v%d" % i]
        cmd(args)
    elif what == "hexpire":
        cmd(["HEXPIRE", "big:hash", 86400, "FIELDS", len(idx)] + ["f%d" % i for i in idx])
    elif what == "hpexpire-soon":
        cmd(["HPEXPIRE", "big:hash", 2000, "FIELDS", len(idx)] + ["f%d" % i for i in idx])
    elif what == "xadd":
        for i in idx:
            cmd(["XADD", "big:stream", "%d-0" % (i + 1), "n", i])
PY
}
pipe() { # what from to: the commands through redis-cli --pipe, which fails on any error reply
    gen "$@" | redis-cli -p "$port" --pipe
}

# result.tsv: one "key<TAB>value" per line, read by the report.
put() { printf '%s\t%s\n' "$1" "$2" >>"$out/result.tsv"; }
step() { # key, name, command...
    local key=$1 name=$2 t0 t1 secs
    shift 2
    t0=$(date +%s.%N)
    "$@" >>"$out/steps.log" 2>&1
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc)
    printf '%-40s %8.1f s\n' "$name" "$secs" | tee -a "$out/result.txt"
    put "step:$key" "$name	$secs"
}
check() { # description, expected, actual
    local verdict=ok
    [[ $2 == "$3" ]] || verdict=FAIL
    if [[ $verdict == ok ]]; then echo "ok   $1 = $3"; else echo "FAIL $1: expected $2, got $3"; fi |
        tee -a "$out/result.txt"
    put "check" "$1	$2	$3	$verdict"
}
rss_now() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
disk() { du -sk "$data" | cut -f1; }

: >"$out/result.txt"
: >"$out/result.tsv"
: >"$out/steps.log"
rev=$(git -C "$root" rev-parse --short HEAD)
echo "N=$n $(date -u +%FT%TZ) $rev" | tee -a "$out/result.txt"
put n "$n"
put date "$(date -u '+%F %H:%M UTC')"
put rev "$rev"
put bin "$BASALT_BIN"
put cpus "$(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))"
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
put command "${TYPES_COMMAND:-TYPES_N=$n bench/types-large.sh}"
put parts "$parts"

half=$((n / 2))
if [[ " $parts " == *" hash "* ]]; then
    # The hash: n fields, each given a TTL of a day, then the first half given
    # one of 2 s: those expire while HLEN must stay exact, then the rest is
    # made to expire too and the background cycle must delete every field and
    # then the key.
    step hset "HSET $n fields" pipe hset 0 "$n"
    step hexpire "HEXPIRE $n fields (1 day)" pipe hexpire 0 "$n"
    check "HLEN big:hash" "$n" "$(cli HLEN big:hash)"
    ttl=$(cli HTTL big:hash FIELDS 1 f$((n - 1)))
    check "HTTL of the last field > 86000" 1 "$((ttl > 86000))"
    step hpersist "HPERSIST one field" cli HPERSIST big:hash FIELDS 1 f0
    check "HTTL f0 after HPERSIST" -1 "$(cli HTTL big:hash FIELDS 1 f0)"
    put rss_hash_loaded "$(rss_now)"
    put disk_hash_loaded "$(disk)"
    step hpexpire_half "HPEXPIRE 2 s on $half fields" pipe hpexpire-soon 0 "$half"
    sleep 2.5
    step hlen_half "HLEN after the first half expired" cli HLEN big:hash
    check "HLEN after $half fields expired" "$((n - half))" "$(cli HLEN big:hash)"
    check "HGET of an expired field" "" "$(cli HGET big:hash f0)"
    check "HGET of a live field" "v$((n - 1))" "$(cli HGET big:hash f$((n - 1)))"
    step hpexpire_rest "HPEXPIRE 2 s on the other $((n - half)) fields" pipe hpexpire-soon "$half" "$n"
    sleep 2.5
    check "HLEN after every field expired" 0 "$(cli HLEN big:hash)"
    t0=$(date +%s.%N)
    reclaimed=0
    for _ in $(seq $((reclaim_wait * 2))); do
        if [[ $(cli EXISTS big:hash) == 0 ]]; then reclaimed=1 && break; fi
        sleep 0.5
    done
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    printf '%-40s %8.1f s\n' "reclamation until the key is gone" "$secs" | tee -a "$out/result.txt"
    put "step:reclaim" "background reclamation of $n expired fields, until the key is gone	$secs"
    check "big:hash deleted by the background cycle" 1 "$reclaimed"
    put rss_hash_reclaimed "$(rss_now)"
fi

if [[ " $parts " == *" stream "* ]]; then
    # The stream: n entries with ids 1-0..n-0, trimmed to the second half.
    step xadd "XADD $n entries" pipe xadd 0 "$n"
    check "XLEN big:stream" "$n" "$(cli XLEN big:stream)"
    put rss_stream_loaded "$(rss_now)"
    put disk_stream_loaded "$(disk)"
    step xtrim "XTRIM MINID $((half + 1))" cli XTRIM big:stream MINID $((half + 1))
    check "XLEN after XTRIM MINID" "$((n - half))" "$(cli XLEN big:stream)"
    check "first entry after XTRIM" "$((half + 1))-0" "$(cli --raw XRANGE big:stream - + COUNT 1 | head -1)"
    check "last entry after XTRIM" "$n-0" "$(cli --raw XREVRANGE big:stream + - COUNT 1 | head -1)"
    step del "DEL big:stream" cli DEL big:stream
fi
check "DBSIZE at the end" 0 "$(cli DBSIZE)"
put disk_end "$(disk)"
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "data directory: $(du -sh "$data" | cut -f1)" | tee -a "$out/result.txt"
kill "$sampler" 2>/dev/null || true
if [[ $doc != - ]]; then
    python3 "$root/bench/types_large_report.py" "$out" "$doc"
    echo "wrote the table into $doc"
fi
! grep -q FAIL "$out/result.txt"
