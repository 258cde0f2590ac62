#!/usr/bin/env bash
# Basalt vs Redis, side by side, with redis-benchmark; writes docs/benchmarks.md.
#
#   bench/run.sh                 full run (about 5-10 minutes on 2 cores)
#   BENCH_QUICK=1 bench/run.sh   smoke run: few requests; the page says so
#
# What it does (issue 2, item 8; DESIGN.md "Performance habits"):
#   1. builds basalt-server (release) unless BASALT_BIN is given;
#   2. starts Basalt (--appendfsync everysec) and Debian's redis-server
#      (--appendonly yes --appendfsync everysec --save "") on 127.0.0.1, each in
#      a fresh temp dir, both pinned to CPU 0; every client runs on CPU 1;
#   3. loads 1,000,000 keys (100-byte values) into each, reads DBSIZE and VmRSS;
#   4. runs redis-benchmark -c 50 -d 100 -r 1000000 for every test in TESTS at
#      pipeline 1 and 16, alternating servers, ROUNDS rounds; reports medians;
#   5. writes the tables to docs/benchmarks.md (raw CSVs and server logs stay
#      in bench/out/latest/).
#
# Only one server runs at a time. With two cores, the server being measured
# gets CPU 0 and the client CPU 1; the other server is frozen with SIGSTOP
# (its whole process group: RocksDB's flush/compaction threads, Redis's bio
# threads and any AOF-rewrite child) and thawed with SIGCONT for its own turn.
# Otherwise RocksDB's background work after a write test keeps running on CPU 0
# during Redis's turn and skews the ratio. We freeze rather than restart
# because a restart would throw away the loaded 1M keys, the block cache and
# the page cache (and cost a WAL replay) before every turn; frozen, each server
# resumes exactly where it was, and any background work it still owes runs in
# its own turn, charged to itself. The client never talks to a frozen server.
#
# Environment (all optional):
#   BENCH_QUICK=1              10k/50k requests per test (else 100k/500k)
#   BENCH_REQUESTS=N           requests per test at pipeline 1
#   BENCH_REQUESTS_P16=N       requests per test at pipeline 16 (default 5 x P1)
#   BENCH_ROUNDS=3             rounds (median taken over them)
#   BENCH_TESTS="set get ..."  tests, see TESTS below
#   BENCH_CUSTOM=$'label|setup|command\n...'   extra rows, see CUSTOM below
#   BENCH_DRIVERS="multi publish"  rows run by bench/driver (basalt-bench)
#   BENCH_LOAD_KEYS=1000000    keys loaded before measuring RSS
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_BASALT_PORT=16666 BENCH_REDIS_PORT=16379
#   BASALT_BIN="cmd args"      run this instead of building basalt-server
#                              (e.g. BASALT_BIN="redis-server --appendonly yes"
#                              to test the script itself); split on spaces
#   BASALT_ARGS="--workers 1"  extra basalt-server options
#   BENCH_DOC=path             page to write (default docs/benchmarks.md)
#   BENCH_OUT=dir              raw output (default bench/out/latest, wiped)
#   BENCH_TIMEOUT=600          seconds before one redis-benchmark run is killed
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

# --- settings ---------------------------------------------------------------
QUICK="${BENCH_QUICK:-0}"
[ "$QUICK" = 0 ] && QUICK=""
if [ -n "$QUICK" ]; then def_req=10000; else def_req=100000; fi
REQ_P1="${BENCH_REQUESTS:-$def_req}"
REQ_P16="${BENCH_REQUESTS_P16:-$((REQ_P1 * 5))}"
ROUNDS="${BENCH_ROUNDS:-3}"
CLIENTS=50
DATA_SIZE=100
KEYSPACE=1000000
PIPELINES=(1 16)
LOAD_KEYS="${BENCH_LOAD_KEYS:-1000000}"
SERVER_CPU="${BENCH_SERVER_CPU:-0}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-1}"
BASALT_PORT="${BENCH_BASALT_PORT:-16666}"
REDIS_PORT="${BENCH_REDIS_PORT:-16379}"
DOC="${BENCH_DOC:-$root/docs/benchmarks.md}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-600}"
HOST=127.0.0.1 # loopback only, always

# TESTS: one word per row, "name[:weight]". name is a redis-benchmark -t test;
# weight scales the request count for tests that are much slower per request
# (MSET writes 10 keys per request). Later issues append rows here, e.g.
#   lpush lpop lrange_100:0.25 sadd spop hset zadd zpopmin
TESTS="${BENCH_TESTS:-set get incr mset:0.25 lpush lpop lrange_100:0.25 sadd spop hset zadd zpopmin}"

# CUSTOM: rows for commands redis-benchmark has no -t test for, one per line:
#   label|setup|command
# setup (may be empty) is sent once to each server with redis-cli before the
# first run (redis-cli quoting; several commands separated by ';;'); command is
# the redis-benchmark command line (shell quoting; __rand_int__ works). E.g.
#   EVALSHA|SCRIPT LOAD "return 1"|EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
# The default row: EVALSHA of a script that runs three commands.
EVAL_SCRIPT="redis.call('SET', KEYS[1], ARGV[1]) redis.call('INCR', KEYS[2]) return redis.call('GET', KEYS[1])"
EVAL_SHA="$(printf '%s' "$EVAL_SCRIPT" | sha1sum | cut -d' ' -f1)"
CUSTOM="${BENCH_CUSTOM-EVALSHA (3 commands)|SCRIPT LOAD \"$EVAL_SCRIPT\"|EVALSHA $EVAL_SHA 2 key:__rand_int__ counter:__rand_int__ v}"

# DRIVERS: rows redis-benchmark cannot run, measured by our own load
# generator (bench/driver): "multi" = MULTI, SET, SET, GET, EXEC per
# transaction (transactions/s); "publish" = PUBLISH to one channel with 100
# subscribers (messages delivered per second = publishes x 100).
DRIVERS="${BENCH_DRIVERS-multi publish}"

# --- helpers (bench/lib.sh) -------------------------------------------------
log_tag=bench
port_hint='BENCH_%s_PORT'

# --- preflight --------------------------------------------------------------
bash scripts/deps.sh bench

check_cpus
[ "$SERVER_CPU" = "$CLIENT_CPU" ] && log "warning: server and client share CPU $SERVER_CPU"

use_out "$root/bench/out/latest" "${BENCH_OUT:-}"
mkdir -p "$(dirname "$DOC")"

if [ -n "${BASALT_BIN:-}" ]; then
    basalt_bin_cmd
    basalt_desc="\`$BASALT_BIN\` (BASALT_BIN)"
    # Testing the script against another server (e.g. redis-server)? A
    # Basalt binary says so in its --version, whatever its file is called.
    "${basalt_cmd[0]}" --version 2>/dev/null | grep -q '^basalt-server ' || basalt_other="$BASALT_BIN"
else
    build_basalt_server
    basalt_cmd=("$basalt_bin")
    [ -x "${basalt_cmd[0]}" ] || die "${basalt_cmd[0]} missing after build"
fi
[ -z "$DRIVERS" ] || build_driver
read -r -a basalt_extra <<<"${BASALT_ARGS:-}"

busy="$(busy_procs '^(rustc|cc1plus|cc1|ld|redis-benchmark)$')"
[ -n "$busy" ] && log "warning: other work is running and will skew results: $busy"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/basalt-bench.XXXXXX")"
mkdir -p "$TMP/basalt" "$TMP/redis"

# --- metadata for the page --------------------------------------------------
cmdline="$(env_cmdline bench/run.sh '^(BENCH_|BASALT_BIN$|BASALT_ARGS$)' BENCH_OUT BENCH_DOC)"
{
    meta_machine
    printf 'redis_version\t%s\n' "$(redis_desc)"
    printf 'benchmark_version\t%s\n' "$(redis-benchmark --version | head -n1)"
    printf 'basalt\t%s\n' "$basalt_desc"
    printf 'basalt_other\t%s\n' "${basalt_other:-}"
    printf 'basalt_args\t%s\n' "--bind $HOST --port $BASALT_PORT --dir <tmp> --appendfsync everysec${BASALT_ARGS:+ $BASALT_ARGS}"
    printf 'redis_args\t%s\n' "--bind $HOST --port $REDIS_PORT --dir <tmp> --appendonly yes --appendfsync everysec --save \"\""
    printf 'command\t%s\n' "$cmdline"
    printf 'quick\t%s\n' "${QUICK:+1}"
    printf 'rounds\t%s\n' "$ROUNDS"
    printf 'req_p1\t%s\n' "$REQ_P1"
    printf 'req_p16\t%s\n' "$REQ_P16"
    printf 'tests\t%s\n' "$TESTS"
    printf 'load_keys\t%s\n' "$LOAD_KEYS"
    printf 'clients\t%s\n' "$CLIENTS"
    printf 'data_size\t%s\n' "$DATA_SIZE"
    printf 'keyspace\t%s\n' "$KEYSPACE"
    printf 'server_cpu\t%s\n' "$SERVER_CPU"
    printf 'client_cpu\t%s\n' "$CLIENT_CPU"
    printf 'busy\t%s\n' "$busy"
    printf 'loadavg\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.tsv"

# --- start both servers, then freeze them -----------------------------------
start_server basalt "$BASALT_PORT" "${basalt_cmd[@]}" --bind "$HOST" --port "$BASALT_PORT" \
    --dir "$TMP/basalt" --appendfsync everysec "${basalt_extra[@]}"
start_server redis "$REDIS_PORT" redis-server --bind "$HOST" --port "$REDIS_PORT" \
    --dir "$TMP/redis" --appendonly yes --appendfsync everysec --save "" --daemonize no
SERVERS=(basalt redis)
freeze basalt
freeze redis

# --- load 1M keys, measure memory -------------------------------------------
printf 'server\tdbsize\trss_idle_kib\trss_loaded_kib\thwm_kib\trss_end_kib\tdata_kib\tload_s\tload_errors\n' >"$OUT/rss.head"
declare -A RSS_LINE
for s in "${SERVERS[@]}"; do
    thaw "$s"
    port="${PORT[$s]}"
    pid="${PID[$s]}"
    rss_idle="$(status_kib "$pid" VmRSS)"
    log "$s: loading $LOAD_KEYS keys"
    t0="$(date +%s.%N)"
    # key:000000000000 ... (the names redis-benchmark -r uses): see gen_load.
    pipe_load "$port" "$LOAD_KEYS" "$DATA_SIZE" "$BENCH_TIMEOUT" >"$OUT/$s-load.txt" 2>&1 ||
        die "$s: loading failed: $(tail -n 3 "$OUT/$s-load.txt")"
    t1="$(date +%s.%N)"
    load_errors="$(sed -n 's/^errors: \([0-9]*\),.*/\1/p' "$OUT/$s-load.txt")"
    # Let an AOF rewrite the load triggered (Redis) finish before measuring.
    for ((i = 0; i < 600; i++)); do
        info="$(cli "$port" info persistence 2>/dev/null | tr -d '\r')" || true
        grep -Eq '^aof_rewrite_(in_progress|scheduled):1' <<<"$info" || break
        sleep 0.1
    done
    sleep 1
    dbsize="$(cli "$port" dbsize)"
    rss_loaded="$(status_kib "$pid" VmRSS)"
    hwm="$(status_kib "$pid" VmHWM)"
    data_kib="$(du -sk "$TMP/$s" | cut -f1)"
    load_s="$(elapsed "$t0" "$t1")"
    log "$s: DBSIZE $dbsize, VmRSS $((rss_loaded / 1024)) MiB, data $((data_kib / 1024)) MiB, load ${load_s}s, errors ${load_errors:-?}"
    RSS_LINE[$s]="$s	$dbsize	$rss_idle	$rss_loaded	$hwm"
    RSS_LINE[$s.tail]="$data_kib	$load_s	${load_errors:-?}"
    freeze "$s"
done

# --- benchmark rounds -------------------------------------------------------
printf 'server\tpipeline\ttest\tlabel\tround\trps\tp50\tp99\tstatus\n' >"$OUT/results.tsv"

# run_one SERVER PIPELINE ROUND KEY LABEL REQUESTS ARGS...: one redis-benchmark
# run. An empty LABEL takes redis-benchmark's own name ("MSET (10 keys)").
run_one() {
    local s="$1" p="$2" r="$3" key="$4" label_override="$5" n="$6"
    shift 6
    local csv="$OUT/r$r-p$p-$s-$key.csv" rc=0 label rps p50 p99 status=ok
    timeout --foreground "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" redis-benchmark -h "$HOST" -p "${PORT[$s]}" \
        -c "$CLIENTS" -d "$DATA_SIZE" -r "$KEYSPACE" -n "$n" -P "$p" --csv "$@" \
        >"$csv" 2>"$csv.err" </dev/null || rc=$?
    IFS=$'\t' read -r label rps p50 p99 < <(bench_csv "$csv") || true
    if [ "$rc" -ne 0 ] || [ -z "${rps:-}" ]; then
        # redis-benchmark 7 exits 1 at the first error reply.
        status="error: $(head -c 200 "$csv.err" | tr -s '\t\r\n' ' ' | sed 's/ *$//')"
        [ "$rc" = 124 ] && status="error: timed out after ${BENCH_TIMEOUT}s"
        log "$s P$p round $r $key: $status"
    else
        log "$s P$p round $r $label: $rps ops/s, p50 $p50 ms, p99 $p99 ms"
    fi
    [ -n "$label_override" ] && label="$label_override"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$p" "$key" "${label:-$key}" "$r" \
        "${rps:-}" "${p50:-}" "${p99:-}" "$status" >>"$OUT/results.tsv"
}

# run_driver SERVER PIPELINE ROUND MODE REQUESTS: one bench/driver run.
run_driver() {
    local s="$1" p="$2" r="$3" mode="$4" n="$5"
    local csv="$OUT/r$r-p$p-$s-$mode.csv" rc=0 label="" rps="" status=ok
    local extra=(--clients "$CLIENTS")
    [ "$mode" = publish ] && extra=(--subscribers 100 --publishers 4)
    timeout --foreground "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPU" "$DRIVER_BIN" "$mode" \
        --port "${PORT[$s]}" --requests "$n" --pipeline "$p" --size "$DATA_SIZE" "${extra[@]}" \
        >"$csv" 2>"$csv.err" </dev/null || rc=$?
    IFS=, read -r label rps <"$csv" || true
    label="${label//\"/}"
    rps="${rps//\"/}"
    if [ "$rc" -ne 0 ] || [ -z "$rps" ]; then
        status="error: $(head -c 200 "$csv.err" | tr -s '\t\r\n' ' ' | sed 's/ *$//')"
        [ "$rc" = 124 ] && status="error: timed out after ${BENCH_TIMEOUT}s"
        log "$s P$p round $r $mode: $status"
    else
        log "$s P$p round $r $label: $rps/s"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$p" "$mode" "${label:-$mode}" "$r" \
        "$rps" "" "" "$status" >>"$OUT/results.tsv"
}

requests_for() { # requests_for PIPELINE WEIGHT
    local base="$REQ_P1"
    [ "$1" -gt 1 ] && base="$REQ_P16"
    awk -v b="$base" -v w="$2" 'BEGIN { n = int(b * w); print (n < 1 ? 1 : n) }'
}

declare -A SETUP_DONE
for ((r = 1; r <= ROUNDS; r++)); do
    # Flip the order every round so neither server always goes first.
    if ((r % 2)); then order=(basalt redis); else order=(redis basalt); fi
    for p in "${PIPELINES[@]}"; do
        for s in "${order[@]}"; do
            thaw "$s"
            for t in $TESTS; do
                name="${t%%:*}"
                weight=1
                [ "$t" != "$name" ] && weight="${t#*:}"
                run_one "$s" "$p" "$r" "$name" "" "$(requests_for "$p" "$weight")" -t "$name"
            done
            while IFS='|' read -r label setup command; do
                [ -n "$label" ] || continue
                if [ -n "$setup" ] && [ -z "${SETUP_DONE[$s.$label]:-}" ]; then
                    printf '%s\n' "${setup//;;/$'\n'}" | cli "${PORT[$s]}" >"$OUT/$s-setup-$label.txt" 2>&1
                    SETUP_DONE[$s.$label]=1
                fi
                words=()
                eval "words=($command)"
                run_one "$s" "$p" "$r" "$label" "$label" "$(requests_for "$p" 1)" "${words[@]}"
            done <<<"$CUSTOM"
            for d in $DRIVERS; do
                # A publish is delivered 100 times: fewer of them.
                weight=1
                [ "$d" = publish ] && weight=0.2
                run_driver "$s" "$p" "$r" "$d" "$(requests_for "$p" "$weight")"
            done
            alive "${PID[$s]}" || die "$s died during the benchmark (log: $OUT/$s.log)"
            freeze "$s"
        done
    done
done

# --- memory at the end, then stop everything --------------------------------
cp "$OUT/rss.head" "$OUT/rss.tsv"
for s in "${SERVERS[@]}"; do
    printf '%s\t%s\t%s\n' "${RSS_LINE[$s]}" "$(status_kib "${PID[$s]}" VmRSS)" "${RSS_LINE[$s.tail]}" >>"$OUT/rss.tsv"
done
rm -f "$OUT/rss.head"
cleanup

python3 "$root/bench/report.py" "$OUT" "$DOC"
log "wrote $DOC (raw results in $OUT)"
