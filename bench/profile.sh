#!/usr/bin/env bash
# Where basalt-server spends its CPU, per command: perf profiles of the
# request path, sorted into categories; feeds docs/performance.md.
#
#   BASALT_BIN=/path/to/basalt-server bench/profile.sh before
#   BASALT_BIN=/path/to/basalt-server bench/profile.sh after
#
# The argument is a label (default "before"). Raw output goes to
# bench/out/profile-<label>/ (git-ignored): perf.data and perf stat output
# per row, one JSON summary per row, report.md. If docs/performance.md has
# the markers <!-- profile:<label>:begin --> and <!-- profile:<label>:end -->,
# report.md replaces what is between them (PROFILE_DOC= to skip that).
#
# What it does:
#   1. starts basalt-server as bench/run.sh does (--bind 127.0.0.1 --port P
#      --dir <tmp> --appendfsync everysec), pinned to CPU 0; every client
#      and perf itself run on CPU 1;
#   2. loads PROFILE_LOAD_KEYS keys (key:000000000000..., 100-byte values)
#      with redis-cli --pipe, like bench/run.sh;
#   3. for each test (get set incr hset zadd lpop) and pipeline (1, 16):
#      an unprofiled warm-up, then redis-benchmark -c 50 -d 100 -r 1000000
#      while `perf record -e cpu-clock` samples the server process (every
#      thread) and `perf stat` counts its context switches, migrations,
#      CPU time and syscalls; /proc/<pid>/task/*/status gives voluntary and
#      involuntary switches per thread;
#   4. sorts each profile's samples into categories with
#      bench/profile_categories.py and writes report.md with
#      bench/profile_report.py.
# Before each row it waits (up to 30 s) for the server to go idle, so
# compaction left by the previous row is not charged to the next one.
# LPOP pops from one list (redis-benchmark's "mylist"); the script first
# pushes as many elements as the LPOP rows will pop.
#
# Environment (all optional):
#   BASALT_BIN=path            server binary (default $CARGO_TARGET_DIR or
#                              target, release/basalt-server; never built here)
#   BASALT_ARGS="..."          extra basalt-server options
#   PROFILE_BIN_DESC="..."     how the page describes the binary (e.g. its commit)
#   PROFILE_TESTS="get set incr hset zadd lpop"
#   PROFILE_PIPELINES="1 16"
#   PROFILE_REQUESTS_P1=200000 PROFILE_REQUESTS_P16=800000
#   PROFILE_WARMUP=20000       unprofiled requests before each row
#   PROFILE_LOAD_KEYS=1000000
#   PROFILE_CALLGRAPH=dwarf    dwarf | fp | none (flat self-time profile)
#   PROFILE_DWARF_STACK=16384  bytes of stack copied per sample (dwarf)
#   PROFILE_FREQ=499           samples per second per thread (cpu-clock)
#   PROFILE_KEEP_DATA=1        keep perf.data files (0: delete after summary)
#   PROFILE_SERVER_CPU=0 PROFILE_CLIENT_CPU=1 PROFILE_PORT=16667
#   PROFILE_DOC=docs/performance.md   page to splice report.md into ('' = none)
#   PROFILE_OUT=dir            raw output (default bench/out/profile-<label>, wiped)
#   PROFILE_TIMEOUT=600        seconds before one redis-benchmark run is killed
#   PROFILE_REPORT_ONLY=1      run nothing: re-summarise the perf.data files of
#                              an earlier run (after changing the categories)
#                              and rewrite its report and section
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
log_tag=profile
port_hint=PROFILE_PORT

LABEL="${1:-${PROFILE_LABEL:-before}}"
[[ "$LABEL" =~ ^[A-Za-z0-9._-]+$ ]] || {
    log "label must be letters, digits, . _ -: $LABEL"
    exit 2
}
TESTS="${PROFILE_TESTS:-get set incr hset zadd lpop}"
read -r -a PIPELINES <<<"${PROFILE_PIPELINES:-1 16}"
REQ_P1="${PROFILE_REQUESTS_P1:-200000}"
REQ_P16="${PROFILE_REQUESTS_P16:-800000}"
WARMUP="${PROFILE_WARMUP:-20000}"
LOAD_KEYS="${PROFILE_LOAD_KEYS:-1000000}"
CALLGRAPH="${PROFILE_CALLGRAPH:-dwarf}"
DWARF_STACK="${PROFILE_DWARF_STACK:-16384}"
FREQ="${PROFILE_FREQ:-499}"
KEEP_DATA="${PROFILE_KEEP_DATA:-1}"
SERVER_CPU="${PROFILE_SERVER_CPU:-0}"
CLIENT_CPU="${PROFILE_CLIENT_CPU:-1}"
SERVER_PORT="${PROFILE_PORT:-16667}"
DOC="${PROFILE_DOC-$root/docs/performance.md}"
TIMEOUT="${PROFILE_TIMEOUT:-600}"
CLIENTS=50
DATA_SIZE=100
KEYSPACE=1000000
HOST=127.0.0.1 # loopback only, always

# --- cleanup: only the processes this script started ------------------------
# The cleanup of bench/lib.sh stops the server; it calls cleanup_extra first
# for perf and redis-benchmark.
BG_PIDS=() # perf record / perf stat / redis-benchmark of the current row
stop_pid() { # stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL
    local pid="$1" sig="$2" i
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
cleanup_extra() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        stop_pid "$pid" INT
    done
    BG_PIDS=()
}

OUT="${PROFILE_OUT:-$root/bench/out/profile-$LABEL}"

# summarise ROW: perf.data -> ROW.profile.json (categories, symbols, details)
summarise() {
    taskset -c "$CLIENT_CPU" perf script -i "$OUT/$1.perf.data" -F comm,tid,period,ip,sym,dso --no-inline 2>"$OUT/$1.script.log" |
        taskset -c "$CLIENT_CPU" python3 "$root/bench/profile_categories.py" >"$OUT/$1.profile.json"
}
write_report() {
    python3 "$root/bench/profile_report.py" "$OUT" >"$OUT/report.md"
    log "wrote $OUT/report.md"
    if [ -n "$DOC" ] && [ -f "$DOC" ]; then
        python3 "$root/bench/profile_report.py" --splice "$DOC" "$LABEL" "$OUT/report.md" &&
            log "updated the $LABEL section of $DOC"
    fi
}
if [ -n "${PROFILE_REPORT_ONLY:-}" ]; then
    OUT="$(cd "$OUT" && pwd)"
    [ -f "$OUT/rows.tsv" ] || die "no earlier run in $OUT"
    for data in "$OUT"/*.perf.data; do
        [ -e "$data" ] || die "no perf.data files left in $OUT (PROFILE_KEEP_DATA=0?)"
        row="$(basename "$data" .perf.data)"
        log "$row: summarising"
        summarise "$row" || log "$row: summarising failed (see $OUT/$row.script.log)"
    done
    write_report
    exit 0
fi

# --- preflight --------------------------------------------------------------
for c in perf redis-benchmark redis-cli taskset setsid python3; do
    command -v "$c" >/dev/null || die "$c not found (perf: apt-get install linux-perf; redis-*: redis-tools)"
done
check_cpus
perf stat -e cpu-clock true >/dev/null 2>&1 ||
    die "perf cannot count cpu-clock here (perf_event_paranoid is $(cat /proc/sys/kernel/perf_event_paranoid); run as root or lower it)"
# Hardware counters are absent on many VMs; the profile uses cpu-clock
# (a software timer) either way. Recorded for the page.
if perf stat -x, -e instructions true 2>&1 | grep -q '<not supported>'; then hw=no; else hw=yes; fi
# Syscall counts come from tracepoints, which need tracefs; without it,
# count only what perf's software events give.
STAT_EVENTS=task-clock,context-switches,cpu-migrations
SYSCALL_EVENTS=syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_sched_yield,syscalls:sys_enter_fdatasync,raw_syscalls:sys_enter
if perf stat -e "$SYSCALL_EVENTS" true >/dev/null 2>&1; then
    STAT_EVENTS="$STAT_EVENTS,$SYSCALL_EVENTS"
else
    log "warning: syscall tracepoints unavailable; the syscall columns will be empty"
fi
case "$CALLGRAPH" in
    dwarf) cg_args=(--call-graph "dwarf,$DWARF_STACK") ;;
    fp) cg_args=(-g) ;;
    none) cg_args=() ;;
    *) die "PROFILE_CALLGRAPH must be dwarf, fp or none" ;;
esac

if [ -n "${BASALT_BIN:-}" ]; then
    basalt_bin_cmd
else
    basalt_cmd=("$(release_bin basalt-server)")
fi
BIN="${basalt_cmd[0]}"
[ -x "$BIN" ] || die "$BIN is not an executable (set BASALT_BIN; this script never builds)"
read -r -a basalt_extra <<<"${BASALT_ARGS:-}"

# Wipe the output of an earlier run, never a directory that holds anything else.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/meta.tsv" ]; then
    die "$OUT is not empty and holds no earlier profile; choose another PROFILE_OUT"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

busy="$(busy_procs '^(rustc|cc1plus|cc1|ld|cargo|redis-benchmark)$')"
[ -n "$busy" ] && log "warning: other work is running (proportions hold, ops/s will be low): $busy"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/basalt-profile.XXXXXX")"
mkdir -p "$TMP/data"

# --- metadata -----------------------------------------------------------------
cmdline="$(env_cmdline "bench/profile.sh $LABEL" '^(PROFILE_|BASALT_BIN$|BASALT_ARGS$)' \
    PROFILE_OUT PROFILE_DOC PROFILE_BIN_DESC PROFILE_LABEL)"
symbols="$(nm "$BIN" 2>/dev/null | wc -l || echo 0)"
{
    printf 'label\t%s\n' "$LABEL"
    meta_machine
    printf 'perf\t%s\n' "$(perf --version)"
    printf 'hw_counters\t%s\n' "$hw"
    printf 'benchmark_version\t%s\n' "$(redis-benchmark --version | head -n1)"
    printf 'bin\t%s\n' "$BIN"
    printf 'bin_desc\t%s\n' "${PROFILE_BIN_DESC:-}"
    printf 'bin_sha256\t%s\n' "$(sha256sum "$BIN" | cut -c1-16)"
    printf 'bin_symbols\t%s\n' "$symbols"
    printf 'bin_debuginfo\t%s\n' "$(readelf -S "$BIN" 2>/dev/null | grep -q '\.debug_info' && echo yes || echo no)"
    printf 'repo_head\t%s\n' "$(git rev-parse -q --short HEAD 2>/dev/null || echo '?')"
    printf 'repo_dirty\t%s\n' "$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)"
    printf 'basalt_args\t%s\n' "--bind $HOST --port $SERVER_PORT --dir <tmp> --appendfsync everysec${BASALT_ARGS:+ $BASALT_ARGS}"
    printf 'command\t%s\n' "$cmdline"
    printf 'callgraph\t%s\n' "$CALLGRAPH$([ "$CALLGRAPH" = dwarf ] && echo ",$DWARF_STACK")"
    printf 'freq\t%s\n' "$FREQ"
    printf 'req_p1\t%s\n' "$REQ_P1"
    printf 'req_p16\t%s\n' "$REQ_P16"
    printf 'warmup\t%s\n' "$WARMUP"
    printf 'load_keys\t%s\n' "$LOAD_KEYS"
    printf 'clients\t%s\n' "$CLIENTS"
    printf 'data_size\t%s\n' "$DATA_SIZE"
    printf 'keyspace\t%s\n' "$KEYSPACE"
    printf 'server_cpu\t%s\n' "$SERVER_CPU"
    printf 'client_cpu\t%s\n' "$CLIENT_CPU"
    printf 'busy\t%s\n' "$busy"
    printf 'loadavg_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.tsv"

# --- start the server -----------------------------------------------------------
# Its log is $OUT/server.log; SERVER_PID is its pid (and process group).
start_server server "$SERVER_PORT" "${basalt_cmd[@]}" --bind "$HOST" --port "$SERVER_PORT" \
    --dir "$TMP/data" --appendfsync everysec "${basalt_extra[@]}"
printf 'threads_at_start\t%s\n' "$(ls /proc/$SERVER_PID/task | wc -l)" >>"$OUT/meta.tsv"
printf 'workers\t%s\n' "$(cli "$SERVER_PORT" config get workers 2>/dev/null | sed -n 2p)" >>"$OUT/meta.tsv"

cpu_ticks() { proc_ticks "$SERVER_PID"; }
# settle: wait until the server used < 5% of a CPU over 0.5 s (30 s at most).
settle() {
    local a b i hz
    hz="$(getconf CLK_TCK)"
    for ((i = 0; i < 60; i++)); do
        a="$(cpu_ticks)"
        sleep 0.5
        b="$(cpu_ticks)"
        (((b - a) * 100 < hz * 5 / 2)) && return 0
    done
    log "server still busy after 30 s; going on"
}
# ctx_snapshot FILE: per thread: name, voluntary, involuntary switches.
ctx_snapshot() {
    local t
    for t in /proc/"$SERVER_PID"/task/*; do
        awk -v name="$(cat "$t/comm" 2>/dev/null)" -v tid="${t##*/}" '
            /^voluntary_ctxt_switches/ { v = $2 }
            /^nonvoluntary_ctxt_switches/ { n = $2 }
            END { printf "%s\t%s\t%s\t%s\n", tid, name, v, n }' "$t/status" 2>/dev/null || true
    done >"$1"
}

# --- load -------------------------------------------------------------------------
log "loading $LOAD_KEYS keys"
t0="$(date +%s.%N)"
pipe_load "$SERVER_PORT" "$LOAD_KEYS" "$DATA_SIZE" "$TIMEOUT" >"$OUT/load.txt" 2>&1 ||
    die "loading failed: $(tail -n 3 "$OUT/load.txt")"
t1="$(date +%s.%N)"
printf 'load_s\t%s\n' "$(elapsed "$t0" "$t1")" >>"$OUT/meta.tsv"
printf 'dbsize\t%s\n' "$(cli "$SERVER_PORT" dbsize)" >>"$OUT/meta.tsv"
log "loaded: DBSIZE $(cli "$SERVER_PORT" dbsize)"

# --- rows ----------------------------------------------------------------------------
requests_for() { if [ "$1" -gt 1 ]; then echo "$REQ_P16"; else echo "$REQ_P1"; fi; }

bench() { # bench CSV PIPELINE REQUESTS TEST: one redis-benchmark run on the client CPU
    timeout --foreground "$TIMEOUT" taskset -c "$CLIENT_CPU" redis-benchmark -h "$HOST" -p "$SERVER_PORT" \
        -c "$CLIENTS" -d "$DATA_SIZE" -r "$KEYSPACE" -n "$3" -P "$2" -t "$4" --csv >"$1" 2>"$1.err" </dev/null
}

printf 'test\tpipeline\trequests\trps\tp50_ms\tp99_ms\tstatus\twall_s\tloadavg\n' >"$OUT/rows.tsv"

# LPOP needs a list to pop: push as many elements as its rows will pop.
if [[ " $TESTS " == *" lpop "* ]]; then
    need=0
    for p in "${PIPELINES[@]}"; do need=$((need + WARMUP + $(requests_for "$p"))); done
    need=$((need + need / 10))
    log "lpop: pushing $need elements to mylist first"
    bench "$OUT/lpush-fill.csv" 16 "$need" lpush || die "LPUSH fill failed: $(head -c 300 "$OUT/lpush-fill.csv.err")"
    printf 'lpop_fill\t%s\n' "$need" >>"$OUT/meta.tsv"
fi

for t in $TESTS; do
    for p in "${PIPELINES[@]}"; do
        row="$t-p$p"
        n="$(requests_for "$p")"
        settle
        if [ "$WARMUP" -gt 0 ]; then
            bench "$OUT/$row.warmup.csv" "$p" "$WARMUP" "$t" || log "$row: warm-up failed: $(head -c 200 "$OUT/$row.warmup.csv.err")"
        fi
        settle
        # The LSM state the row starts from (memtables, SST bytes, L0 files).
        cli "$SERVER_PORT" info rocksdb >"$OUT/$row.rocksdb.txt" 2>&1 || true
        ctx_snapshot "$OUT/$row.ctx-before.tsv"
        load_before="$(cut -d' ' -f1 /proc/loadavg)"
        # perf itself runs on the client CPU, so its work is not the server's.
        # (taskset execs perf: $! is perf's pid, which SIGINT stops cleanly.)
        taskset -c "$CLIENT_CPU" perf record -e cpu-clock -F "$FREQ" "${cg_args[@]}" -p "$SERVER_PID" \
            -o "$OUT/$row.perf.data" >"$OUT/$row.record.log" 2>&1 &
        rec_pid=$!
        BG_PIDS+=("$rec_pid")
        taskset -c "$CLIENT_CPU" perf stat -x, -o "$OUT/$row.stat.csv" -p "$SERVER_PID" -e "$STAT_EVENTS" \
            >"$OUT/$row.stat.log" 2>&1 &
        stat_pid=$!
        BG_PIDS+=("$stat_pid")
        sleep 1 # both attached (an idle server adds no samples meanwhile)
        alive "$rec_pid" || die "perf record failed: $(tail -n 5 "$OUT/$row.record.log")"
        log "$row: redis-benchmark -P $p -n $n -t $t (profiling)"
        w0="$(date +%s.%N)"
        rc=0
        bench "$OUT/$row.csv" "$p" "$n" "$t" || rc=$?
        w1="$(date +%s.%N)"
        stop_pid "$stat_pid" INT
        stop_pid "$rec_pid" INT
        BG_PIDS=()
        ctx_snapshot "$OUT/$row.ctx-after.tsv"
        alive "$SERVER_PID" || die "basalt-server died during $row (log: $OUT/server.log)"
        IFS=$'\t' read -r _ rps p50 p99 < <(bench_csv "$OUT/$row.csv") || true
        status=ok
        if [ "$rc" -ne 0 ] || [ -z "${rps:-}" ]; then
            status="error: $(head -c 200 "$OUT/$row.csv.err" | tr -s '\t\r\n' ' ')"
            [ "$rc" = 124 ] && status="error: timed out after ${TIMEOUT}s"
        fi
        wall="$(elapsed "$w0" "$w1" %.2f)"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$p" "$n" "${rps:-}" "${p50:-}" "${p99:-}" \
            "$status" "$wall" "$load_before $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/rows.tsv"
        log "$row: ${rps:-?} ops/s ($status), summarising the profile"
        summarise "$row" || log "$row: summarising failed (see $OUT/$row.script.log)"
        [ "$KEEP_DATA" = 1 ] || rm -f "$OUT/$row.perf.data"
    done
done

printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
printf 'rss_end_kib\t%s\n' "$(status_kib "$SERVER_PID" VmRSS)" >>"$OUT/meta.tsv"
cleanup

write_report
