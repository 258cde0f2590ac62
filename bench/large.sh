#!/usr/bin/env bash
# Data far larger than memory (issue 8, item 5): Basalt with a small block
# cache and a data set many times its size; writes docs/large-dataset.md.
#
#   bench/large.sh        default: 64 MB block cache, ~2.5 GB of strings and
#                         hashes (about 15 minutes on 2 cores)
#   LARGE_CACHE_MB=1024 LARGE_STRING_KEYS=13000000 LARGE_HASH_KEYS=700000 \
#   LARGE_REDIS=0 bench/large.sh
#                         the 20 GB / 1 GB case (about 20 GB raw data; Redis
#                         left out, it would need ~25 GB of RAM)
#
# What it does:
#   1. starts basalt-server (--appendfsync everysec, --rocksdb.block_cache_size
#      LARGE_CACHE_MB, every other option at its default) on 127.0.0.1 in a
#      fresh directory, pinned to CPU 0; every client runs on CPU 1;
#   2. samples the server's VmRSS (and INFO memory's block_cache_usage and
#      memtables_usage) once a second for the whole run;
#   3. loads LARGE_STRING_KEYS strings (SET) and LARGE_HASH_KEYS hashes of
#      LARGE_FIELDS fields (HSET) with LARGE_VALUE_SIZE-byte values, pipelined
#      (bench/driver `load`: half random, half text values; raw bytes counted);
#   4. waits until compaction settles, restarts the server (reopening replays
#      the WAL into L0 files: everything is in SST files), waits again, then
#      measures the data directory (du, and SST / WAL / WAL archive / other);
#   5. runs GET, HGET, SET for LARGE_DURATION seconds each, 50 connections,
#      one request in flight each, keys drawn from a scrambled zipfian
#      distribution (bench/driver `zipf`), and records ops/s, p50/p99/p999;
#   6. if the data fits in RAM, does 3 and 5 again with Debian's redis-server
#      without persistence (--save "" --appendonly no) for the RSS beside it;
#   7. writes the tables to docs/large-dataset.md (raw output in
#      bench/out/large/). One server runs at a time.
#
# Environment (all optional):
#   LARGE_CACHE_MB=64          rocksdb.block_cache_size
#   LARGE_STRING_KEYS=1600000  strings loaded (keys s:000000000000 ...)
#   LARGE_HASH_KEYS=80000      hashes loaded (keys h:000000000000 ...)
#   LARGE_FIELDS=10            fields per hash (field:000 ...)
#   LARGE_VALUE_SIZE=1000      bytes per string value and per hash field value
#   LARGE_DURATION=60          seconds measured per operation
#   LARGE_WARMUP=5             seconds run before measuring each operation
#   LARGE_CLIENTS=50           connections for GET/HGET/SET
#   LARGE_THETA=0.99           zipfian skew (0 = uniform)
#   LARGE_OPS="get hget set"   operations, in this order (set last: it writes)
#   LARGE_LOAD_CLIENTS=50 LARGE_LOAD_PIPELINE=64
#   LARGE_REDIS=auto           1: always run Redis, 0: never, auto: when the
#                              raw data is under a quarter of MemAvailable
#   LARGE_SETTLE_TIMEOUT=900   seconds to wait for compaction to settle
#   LARGE_QUIET_WAIT=300       seconds to wait, before each measured operation,
#                              for other work on the machine to stop (0: never)
#   LARGE_TMPDIR=/var/tmp      where the data directories go (disk checked)
#   LARGE_SERVER_CPU=0 LARGE_CLIENT_CPU=1
#   LARGE_BASALT_PORT=16690 LARGE_REDIS_PORT=16391
#   BASALT_BIN=path            run this basalt-server instead of building it
#   BASALT_ARGS="..."          extra basalt-server options
#   BASALT_BENCH_BIN=path      run this basalt-bench instead of building it
#   LARGE_DOC=path             page to write (default docs/large-dataset.md)
#   LARGE_OUT=dir              raw output (default bench/out/large, wiped)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

# --- settings ---------------------------------------------------------------
CACHE_MB="${LARGE_CACHE_MB:-64}"
STRING_KEYS="${LARGE_STRING_KEYS:-1600000}"
HASH_KEYS="${LARGE_HASH_KEYS:-80000}"
FIELDS="${LARGE_FIELDS:-10}"
VALUE_SIZE="${LARGE_VALUE_SIZE:-1000}"
DURATION="${LARGE_DURATION:-60}"
WARMUP="${LARGE_WARMUP:-5}"
CLIENTS="${LARGE_CLIENTS:-50}"
THETA="${LARGE_THETA:-0.99}"
OPS="${LARGE_OPS:-get hget set}"
LOAD_CLIENTS="${LARGE_LOAD_CLIENTS:-50}"
LOAD_PIPELINE="${LARGE_LOAD_PIPELINE:-64}"
REDIS="${LARGE_REDIS:-auto}"
SETTLE_TIMEOUT="${LARGE_SETTLE_TIMEOUT:-900}"
QUIET_WAIT="${LARGE_QUIET_WAIT:-300}"
DATA_PARENT="${LARGE_TMPDIR:-/var/tmp}"
SERVER_CPU="${LARGE_SERVER_CPU:-0}"
CLIENT_CPU="${LARGE_CLIENT_CPU:-1}"
BASALT_PORT="${LARGE_BASALT_PORT:-16690}"
REDIS_PORT="${LARGE_REDIS_PORT:-16391}"
DOC="${LARGE_DOC:-$root/docs/large-dataset.md}"
HOST=127.0.0.1 # loopback only, always

# --- helpers (and bench/lib.sh) ----------------------------------------------
log_tag=large
log_clock=1
port_hint='LARGE_%s_PORT'
ready_timeout=600 # WAL replay after the restart can take a while
stop_grace=120    # a clean Basalt shutdown waits for a running compaction to stop
# One server runs at a time: SERVER_PID (bench/lib.sh) is the running one.

SAMPLER_PID="" # the RSS sampler (a subshell of this script)
stop_sampler() {
    if [ -n "$SAMPLER_PID" ]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
    fi
    SAMPLER_PID=""
}
cleanup_extra() { stop_sampler; }

# info_sum PORT SECTION FIELD: sum of FIELD (or FIELD[cf]) lines of INFO SECTION.
info_sum() {
    cli "$1" info "$2" 2>/dev/null | tr -d '\r' |
        awk -F: -v f="$3" '{ k = $1; sub(/\[.*\]$/, "", k) } k == f { s += $2 } END { printf "%.0f\n", s }'
}

phase() {
    echo "$1" >"$TMP/phase"
    log "phase $1"
}

# sampler NAME PORT: one line a second to rss-samples.tsv until killed: the
# server's VmRSS, Basalt's block cache and memtable bytes, and cpu_now, so
# that the report can show how much other work shared the machine.
sampler() {
    local name="$1" port="$2" pid rss cache mem next cpus
    next="$(date +%s)"
    while :; do
        pid="$(cat "$TMP/pid" 2>/dev/null || true)"
        rss="$(status_kib "$pid" VmRSS || true)"
        cpus="$(cpu_now "$pid" | tr ' ' '\t')"
        cache="" mem=""
        if [ "$name" = basalt ] && [ -n "$rss" ]; then
            local info
            info="$(timeout 2 taskset -c "$CLIENT_CPU" redis-cli -h "$HOST" -p "$port" info memory 2>/dev/null | tr -d '\r' || true)"
            cache="$(sed -n 's/^block_cache_usage://p' <<<"$info")"
            mem="$(sed -n 's/^memtables_usage://p' <<<"$info")"
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$name" "$(cat "$TMP/phase" 2>/dev/null)" \
            "$rss" "$cache" "$mem" "$cpus" >>"$OUT/rss-samples.tsv"
        next=$((next + 1))
        sleep "$(awk -v n="$next" -v t="$(date +%s.%N)" 'BEGIN { d = n - t; print (d > 0 ? d : 0) }')"
    done
}
start_sampler() {
    sampler "$1" "$2" &
    SAMPLER_PID=$!
}

# settle PORT LABEL: until no compaction is pending and the SST total has not
# moved for three polls 5 s apart (or LARGE_SETTLE_TIMEOUT).
settle() {
    local port="$1" label="$2" start=$SECONDS prev="" stable=0 pending sst l0
    while ((SECONDS - start < SETTLE_TIMEOUT)); do
        pending="$(info_sum "$port" rocksdb pending_compaction_bytes)"
        sst="$(info_sum "$port" rocksdb sst_bytes)"
        l0="$(info_sum "$port" rocksdb num_files_l0)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$((SECONDS - start))" "$pending" "$sst" "$l0" >>"$OUT/settle.tsv"
        if [ "$pending" = 0 ] && [ "$sst" = "$prev" ]; then
            stable=$((stable + 1))
            if [ "$stable" -ge 2 ]; then
                log "$label: settled after $((SECONDS - start)) s (SST $((sst >> 20)) MiB, L0 files $l0)"
                printf '%s\t%s\n' "settle_$label" "$((SECONDS - start))" >>"$OUT/meta.tsv"
                return 0
            fi
        else
            stable=0
        fi
        prev="$sst"
        sleep 5
    done
    log "warning: $label: compaction had not settled after $SETTLE_TIMEOUT s"
    printf '%s\t%s\n' "settle_$label" "timeout $SETTLE_TIMEOUT" >>"$OUT/meta.tsv"
}

# disk STAGE DIR: du of the data directory and its parts, one line of disk.tsv.
disk() {
    local stage="$1" dir="$2" du sst wal archive all
    sync
    du="$(du -sB1 "$dir" | cut -f1)"
    all="$(du -sb "$dir" | cut -f1)"
    sst="$(find "$dir" -name '*.sst' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')"
    archive="$(find "$dir" -path '*/archive/*' -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')"
    wal="$(find "$dir" -name '*.log' -not -path '*/archive/*' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$stage" "$du" "$all" "$sst" "$wal" "$archive" \
        "$((all - sst - wal - archive))" >>"$OUT/disk.tsv"
    log "$stage: du $((du >> 20)) MiB (SST $((sst >> 20)), WAL $((wal >> 20)), WAL archive $((archive >> 20)) MiB)"
}

# load NAME PORT: strings then hashes; load.tsv gets one line per kind.
load() {
    local name="$1" port="$2" kind keys out
    for kind in string hash; do
        keys="$STRING_KEYS"
        [ "$kind" = hash ] && keys="$HASH_KEYS"
        [ "$keys" -gt 0 ] || continue
        log "$name: loading $keys keys of kind $kind"
        out="$OUT/load-$name-$kind.csv"
        taskset -c "$CLIENT_CPU" "$DRIVER_BIN" load --port "$port" --kind "$kind" --keys "$keys" \
            --fields "$FIELDS" --size "$VALUE_SIZE" --clients "$LOAD_CLIENTS" \
            --pipeline "$LOAD_PIPELINE" >"$out" 2>"$out.err" </dev/null ||
            die "$name: loading $kind keys failed: $(head -c 300 "$out.err")"
        tail -n 1 "$out" | awk -v s="$name" -F, '{ OFS = "\t"; print s, $1, $2, $3, $4, $5 }' >>"$OUT/load.tsv"
        log "$name: $(tail -n 1 "$out")"
    done
}

# wait_quiet NAME OP: before a measurement, wait (up to LARGE_QUIET_WAIT s)
# until for 5 s neither CPU is more than 10% busy with work other than our
# server (its own flushes and compactions count as its work). On a shared
# machine this dodges other people's builds and tests; the CPU columns of the
# report show what got through anyway.
wait_quiet() {
    local start=$SECONDS a b other=0
    # QUIET_WAIT=0 means "never wait": return before sampling anything.
    if [ "$QUIET_WAIT" -le 0 ]; then
        printf 'quiet_wait_%s_%s\t%s\n' "$1" "$2" "skipped" >>"$OUT/meta.tsv"
        return 0
    fi
    while ((SECONDS - start < QUIET_WAIT)); do
        a="$(cpu_now "$SERVER_PID")"
        sleep 5
        b="$(cpu_now "$SERVER_PID")"
        other="$(awk -v a="$a" -v b="$b" 'BEGIN {
            split(a, x); split(b, y)
            s = (y[1] - x[1]) / (y[3] - x[3]); o0 = (y[2] - x[2]) / (y[3] - x[3]) - s; o1 = (y[4] - x[4]) / (y[5] - x[5])
            print int(100 * (o0 > o1 ? o0 : o1)) }')"
        if [ "$other" -le 10 ]; then
            [ $((SECONDS - start)) -gt 5 ] && log "$1 $2: waited $((SECONDS - start)) s for other work to stop"
            printf 'quiet_wait_%s_%s\t%s\n' "$1" "$2" "$((SECONDS - start))" >>"$OUT/meta.tsv"
            return 0
        fi
    done
    log "warning: $1 $2: other work still running after $QUIET_WAIT s (${other}% of a CPU); measuring anyway"
    printf 'quiet_wait_%s_%s\t%s\n' "$1" "$2" "timeout ${other}%" >>"$OUT/meta.tsv"
}
# cpu_now PID: cumulative clock ticks: PID's CPU time (all threads), busy and
# total of the server's CPU, busy and total of the client's CPU. Busy = user,
# nice, system, irq, softirq and steal (time the hypervisor gave to others).
cpu_now() {
    printf '%s ' "$(proc_ticks "$1" 2>/dev/null || echo 0)"
    awk -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" '
        $1 == a || $1 == b { t = 0; for (i = 2; i <= 9; i++) t += $i; busy[$1] = t - $5 - $6; total[$1] = t }
        END { printf "%s %s %s %s\n", busy[a], total[a], busy[b], total[b] }' /proc/stat
}

# run_ops NAME PORT: one zipf run per operation; zipf.tsv gets one line each.
run_ops() {
    local name="$1" port="$2" op keys out rss0
    for op in $OPS; do
        keys="$STRING_KEYS"
        [ "$op" = hget ] && keys="$HASH_KEYS"
        [ "$keys" -gt 0 ] || continue
        phase "wait-$op"
        wait_quiet "$name" "$op"
        phase "$op"
        out="$OUT/zipf-$name-$op.csv"
        rss0="$(status_kib "$SERVER_PID" VmRSS)"
        taskset -c "$CLIENT_CPU" "$DRIVER_BIN" zipf --port "$port" --op "$op" --keys "$keys" \
            --fields "$FIELDS" --size "$VALUE_SIZE" --clients "$CLIENTS" --theta "$THETA" \
            --duration "$DURATION" --warmup "$WARMUP" >"$out" 2>"$out.err" </dev/null ||
            die "$name: zipf $op failed: $(head -c 300 "$out.err")"
        tail -n 1 "$out" | awk -v s="$name" -v a="$rss0" -v b="$(status_kib "$SERVER_PID" VmRSS)" \
            -F, '{ OFS = "\t"; $1 = $1; print s, $0, a, b }' >>"$OUT/zipf.tsv"
        log "$name: $(tail -n 1 "$out")"
        alive "$SERVER_PID" || die "$name died during $op (log: $OUT/$name.log)"
    done
}

# --- preflight --------------------------------------------------------------
bash scripts/deps.sh bench

check_cpus

# Raw bytes as bench/driver counts them: key + value per string; key once,
# then field name + value per field, per hash.
# (An estimate for the checks below: field names are 9 bytes up to 1000 fields.)
raw_est=$((STRING_KEYS * (14 + VALUE_SIZE) + HASH_KEYS * (14 + FIELDS * (9 + VALUE_SIZE))))
cache_bytes=$((CACHE_MB << 20))
log "raw data ~$((raw_est >> 20)) MiB, block cache $CACHE_MB MiB ($((raw_est / cache_bytes))x)"
[ "$raw_est" -ge $((cache_bytes * 10)) ] || log "warning: the data set is less than 10x the block cache"

mkdir -p "$DATA_PARENT"
# SST files (~0.6x raw with these values) + WAL archive (~1x raw: Basalt's
# default rocksdb.wal_ttl_seconds keeps it) + compaction's temporary copies.
need_free "$DATA_PARENT" $((raw_est * 3 + (2 << 30))) "set LARGE_TMPDIR"

mem_avail="$(awk '/^MemAvailable/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)"
case "$REDIS" in
auto) if [ "$raw_est" -lt $((mem_avail / 4)) ]; then REDIS=1; else REDIS=0; fi ;;
0 | 1) ;;
*) die "LARGE_REDIS must be auto, 0 or 1" ;;
esac
[ "$REDIS" = 1 ] && [ "$raw_est" -ge $((mem_avail / 2)) ] &&
    log "warning: Redis may not fit: raw data $((raw_est >> 30)) GiB, MemAvailable $((mem_avail >> 30)) GiB"

use_out "$root/bench/out/large" "${LARGE_OUT:-}"
mkdir -p "$(dirname "$DOC")"

if [ -n "${BASALT_BIN:-}" ]; then
    basalt_bin="$(from_caller "$BASALT_BIN")"
    basalt_desc="\`$BASALT_BIN\` (BASALT_BIN)"
else
    build_basalt_server
fi
[ -x "$basalt_bin" ] || die "$basalt_bin is not an executable"
if [ -n "${BASALT_BENCH_BIN:-}" ]; then
    DRIVER_BIN="$(from_caller "$BASALT_BENCH_BIN")"
else
    build_driver
fi
[ -x "$DRIVER_BIN" ] || die "$DRIVER_BIN is not an executable"
read -r -a basalt_extra <<<"${BASALT_ARGS:-}"

# Compilers, profilers or other servers and benchmarks on the machine make
# every number lie (nothing of ours is running yet).
busy="$(busy_procs "$busy_pattern")"
[ -n "$busy" ] && log "warning: other work is running and will skew results: $busy"

TMP="$(mktemp -d "$DATA_PARENT/basalt-large.XXXXXX")"
mkdir -p "$TMP/basalt" "$TMP/redis"
# The sampler reads the running server's pid here (it changes on a restart).
server_pid_file="$TMP/pid"

cmdline="$(env_cmdline bench/large.sh '^(LARGE_|BASALT_BIN$|BASALT_ARGS$|BASALT_BENCH_BIN$)' LARGE_OUT LARGE_DOC)"
basalt_args="--bind $HOST --port $BASALT_PORT --dir <tmp> --appendfsync everysec --rocksdb.block_cache_size $CACHE_MB${BASALT_ARGS:+ $BASALT_ARGS}"
{
    meta_machine
    printf 'disk\t%s\n' "$(df -PT "$DATA_PARENT" | awk 'NR == 2 { print $1 " (" $2 ")" }'), rotational=$(cat "/sys/block/$(basename "$(df -P "$DATA_PARENT" | awk 'NR == 2 { print $1 }')")/queue/rotational" 2>/dev/null || echo '?')"
    printf 'redis_version\t%s\n' "$(redis_desc)"
    printf 'basalt\t%s\n' "$basalt_desc"
    printf 'basalt_args\t%s\n' "$basalt_args"
    printf 'redis_args\t%s\n' "--bind $HOST --port $REDIS_PORT --dir <tmp> --save \"\" --appendonly no"
    printf 'command\t%s\n' "$cmdline"
    printf 'cache_mb\t%s\n' "$CACHE_MB"
    printf 'string_keys\t%s\n' "$STRING_KEYS"
    printf 'hash_keys\t%s\n' "$HASH_KEYS"
    printf 'fields\t%s\n' "$FIELDS"
    printf 'value_size\t%s\n' "$VALUE_SIZE"
    printf 'duration\t%s\n' "$DURATION"
    printf 'warmup\t%s\n' "$WARMUP"
    printf 'clients\t%s\n' "$CLIENTS"
    printf 'theta\t%s\n' "$THETA"
    printf 'load_clients\t%s\n' "$LOAD_CLIENTS"
    printf 'load_pipeline\t%s\n' "$LOAD_PIPELINE"
    printf 'server_cpu\t%s\n' "$SERVER_CPU"
    printf 'client_cpu\t%s\n' "$CLIENT_CPU"
    printf 'redis\t%s\n' "$REDIS"
    printf 'busy\t%s\n' "$busy"
    printf 'loadavg\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.tsv"
printf 'server\tkind\tkeys\tcommands\traw_bytes\tseconds\n' >"$OUT/load.tsv"
printf 'server\top\tclients\ttheta\tkeys\tseconds\trequests\terrors\tops_per_sec\tp50_ms\tp99_ms\tp999_ms\tmax_ms\trss_before_kib\trss_after_kib\n' >"$OUT/zipf.tsv"
printf 'stage\tdu_bytes\tapparent_bytes\tsst_bytes\twal_bytes\twal_archive_bytes\tother_bytes\n' >"$OUT/disk.tsv"
printf 'stage\tseconds\tpending_compaction_bytes\tsst_bytes\tl0_files\n' >"$OUT/settle.tsv"
printf 'epoch\tserver\tphase\trss_kib\tblock_cache_bytes\tmemtable_bytes\tserver_ticks\tserver_cpu_busy\tserver_cpu_total\tclient_cpu_busy\tclient_cpu_total\n' >"$OUT/rss-samples.tsv"

# --- Basalt -----------------------------------------------------------------
basalt_cmd=("$basalt_bin" --bind "$HOST" --port "$BASALT_PORT" --dir "$TMP/basalt" --appendfsync everysec
    --rocksdb.block_cache_size "$CACHE_MB" "${basalt_extra[@]}")
phase start
start_server basalt "$BASALT_PORT" "${basalt_cmd[@]}"
start_sampler basalt "$BASALT_PORT"
for opt in rocksdb.block_cache_size rocksdb.write_buffer_size rocksdb.max_write_buffer_number \
    rocksdb.max_background_jobs rocksdb.compression rocksdb.block_size rocksdb.max_total_wal_size \
    rocksdb.wal_ttl_seconds rocksdb.wal_size_limit_mb workers; do
    printf 'config_%s\t%s\n' "$opt" "$(cli "$BASALT_PORT" config get "$opt" | sed -n 2p)" >>"$OUT/meta.tsv"
done
printf 'rss_idle_kib\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"

phase load
t0=$SECONDS
load basalt "$BASALT_PORT"
printf 'load_total_s_basalt\t%s\n' "$((SECONDS - t0))" >>"$OUT/meta.tsv"
printf 'rss_loaded_kib_basalt\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"

phase settle-after-load
settle "$BASALT_PORT" after_load
cli "$BASALT_PORT" info rocksdb >"$OUT/info-rocksdb-after-load.txt"
disk after_load "$TMP/basalt"

# Restart: a clean shutdown leaves the memtables in the WAL; reopening
# replays it and writes them to L0 files, so the data is all in SST files.
phase restart
printf 'hwm_kib_basalt_first\t%s\n' "$(status_kib "$SERVER_PID" VmHWM)" >>"$OUT/meta.tsv"
stop_servers
start_server basalt "$BASALT_PORT" "${basalt_cmd[@]}"
printf 'rss_restarted_kib\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
phase settle-after-restart
settle "$BASALT_PORT" after_restart
cli "$BASALT_PORT" info rocksdb >"$OUT/info-rocksdb-after-restart.txt"
disk after_restart "$TMP/basalt"

# Compressibility of the values as loaded: 200 string values read back,
# compressed in 16 KiB chunks (RocksDB's block size) with zlib -1 and lz4 -1.
python3 - "$BASALT_PORT" "$STRING_KEYS" "$OUT/sample-values.bin" <<'EOF' || log "warning: no value sample"
import socket, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
out = open(path, "wb")
for i in range(0, n, max(1, n // 200)):
    key = b"s:%012d" % i
    s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
    head = f.readline()
    if head.startswith(b"$") and int(head[1:]) >= 0:
        out.write(f.read(int(head[1:]) + 2)[:-2])
EOF
if [ -s "$OUT/sample-values.bin" ]; then
    python3 - "$OUT/sample-values.bin" >>"$OUT/meta.tsv" <<'EOF'
import shutil, subprocess, sys, zlib
data = open(sys.argv[1], "rb").read()
chunks = [data[i:i + 16384] for i in range(0, len(data), 16384)]
print("compress_zlib1\t%.3f" % (sum(len(zlib.compress(c, 1)) for c in chunks) / len(data)))
if shutil.which("lz4"):
    lz = sum(len(subprocess.run(["lz4", "-1", "-c", "-q"], input=c, capture_output=True).stdout) for c in chunks)
    print("compress_lz4\t%.3f" % (lz / len(data)))
EOF
fi

run_ops basalt "$BASALT_PORT"

phase end
printf 'dbsize_basalt\t%s\n' "$(cli "$BASALT_PORT" dbsize)" >>"$OUT/meta.tsv"
cli "$BASALT_PORT" info memory >"$OUT/info-memory-basalt-end.txt"
cli "$BASALT_PORT" info commandstats >"$OUT/info-commandstats-basalt.txt"
cli "$BASALT_PORT" info rocksdb >"$OUT/info-rocksdb-end.txt"
disk end "$TMP/basalt"
printf 'rss_end_kib_basalt\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
printf 'hwm_kib_basalt\t%s\n' "$(status_kib "$SERVER_PID" VmHWM)" >>"$OUT/meta.tsv"
stop_sampler
stop_servers
rm -rf "${TMP:?}/basalt"

# --- Redis ------------------------------------------------------------------
if [ "$REDIS" = 1 ]; then
    phase start
    start_server redis "$REDIS_PORT" redis-server --bind "$HOST" --port "$REDIS_PORT" \
        --dir "$TMP/redis" --save "" --appendonly no --daemonize no
    start_sampler redis "$REDIS_PORT"
    printf 'rss_idle_kib_redis\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
    phase load
    t0=$SECONDS
    load redis "$REDIS_PORT"
    printf 'load_total_s_redis\t%s\n' "$((SECONDS - t0))" >>"$OUT/meta.tsv"
    sleep 2
    printf 'rss_loaded_kib_redis\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
    printf 'used_memory_redis\t%s\n' "$(cli "$REDIS_PORT" info memory | tr -d '\r' | sed -n 's/^used_memory://p')" >>"$OUT/meta.tsv"
    run_ops redis "$REDIS_PORT"
    phase end
    printf 'dbsize_redis\t%s\n' "$(cli "$REDIS_PORT" dbsize)" >>"$OUT/meta.tsv"
    cli "$REDIS_PORT" info commandstats >"$OUT/info-commandstats-redis.txt"
    printf 'rss_end_kib_redis\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
    printf 'hwm_kib_redis\t%s\n' "$(status_kib "$SERVER_PID" VmHWM)" >>"$OUT/meta.tsv"
    stop_sampler
    stop_servers
fi
printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
busy_end="$(busy_procs "$busy_pattern")"
printf 'busy_end\t%s\n' "$busy_end" >>"$OUT/meta.tsv"
cleanup

python3 "$root/bench/large_report.py" "$OUT" "$DOC"
log "wrote $DOC (raw results in $OUT)"
