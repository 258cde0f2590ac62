#!/usr/bin/env bash
# Replication (issue 10, item 8): Basalt beside Debian's redis-server, each as
# a master with one replica; writes a table into the notes of docs/benchmarks.md
# (between the replication markers, so bench/run.sh keeps it).
#
#   bench/replication.sh                   1 GiB of values (1,048,576 keys of 1000 bytes)
#   REPL_DATA_MB=256 bench/replication.sh  a smaller data set (the table says which)
#
# For Basalt, then for Redis (one pair of servers at a time):
#   1. starts the master (Basalt: --appendfsync everysec; Redis: --appendonly
#      yes --appendfsync everysec --save "", as bench/run.sh) pinned to CPU 0,
#      and loads REPL_DATA_MB MiB of REPL_VALUE_SIZE-byte random values with
#      redis-cli --pipe (keys key:000000000000 ...);
#   2. starts an empty replica (same options) pinned to CPU 1, sends it
#      REPLICAOF and times until it has the whole data set: Basalt, until
#      its link is up and its sequence equals the master's (checkpoint
#      transfer); Redis, until its link is up and no sync is in progress
#      (RDB transfer, diskless as Redis 7 defaults, but without the 5 s
#      repl-diskless-sync-delay);
#   3. with the replica attached, runs redis-benchmark -t set -P 16 -c 50
#      -d 100 -r <keys> -n REPL_REQUESTS on the master, while
#      bench/replication_lag.py measures the lag: a SET on the master every
#      10 ms, and GETs on the replica every 0.2 ms; lag = from the master's
#      reply to the first read that sees it;
#   4. for each layout, REPL_ROUNDS times: the same redis-benchmark with the
#      replica attached, then with the replica detached (REPLICAOF NO ONE: it
#      idles), then attaches it again (a full sync) for the next round.
# Ratio = median SET ops/s with a replica ÷ median without (target ≥ 0.9).
# The lag probe is a client of its own on CPU 1: its run is kept out of the
# ratio (its ops/s are shown beside it), so both sides of the ratio run the
# same clients. Rounds alternate because this shared machine's speed drifts
# over minutes. The machine has 2 CPUs for 3 programs: in the "shared"
# layout the clients run on the replica's CPU, so a replica's own work
# slows the clients; in the "own" layout they run on the master's, and the
# replica has its CPU to itself, as on a machine of its own (its memory
# traffic still shares the L3 cache with the master).
#
# Environment (all optional):
#   REPL_DATA_MB=1024          MiB of values loaded before the full sync
#   REPL_VALUE_SIZE=1000       bytes per value
#   REPL_REQUESTS=1000000      SET requests per redis-benchmark run
#   REPL_ROUNDS=3              runs with and without the replica, alternating
#   REPL_LAYOUTS="shared own"  where redis-benchmark runs during the rounds:
#                              shared = on the replica's CPU (REPL_CLIENT_CPU),
#                              own = on the master's, leaving the replica a CPU
#                              of its own as on a machine of its own
#   REPL_SERVERS="basalt redis"
#   REPL_SERVER_CPU=0 REPL_REPLICA_CPU=1 REPL_CLIENT_CPU=1
#   REPL_PORT_BASE=16710       master on BASE, replica on BASE+1 (Redis: +10, +11)
#   REPL_TMPDIR=/var/tmp       where the data directories go
#   REPL_SYNC_TIMEOUT=1800     seconds a full sync may take
#   BASALT_BIN=path            run this basalt-server instead of building it
#   BENCH_DOC=path             page to write into (default docs/benchmarks.md)
#   REPL_OUT=dir               raw output (default bench/out/replication, wiped)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

DATA_MB="${REPL_DATA_MB:-1024}"
VALUE_SIZE="${REPL_VALUE_SIZE:-1000}"
REQUESTS="${REPL_REQUESTS:-1000000}"
ROUNDS="${REPL_ROUNDS:-3}"
LAYOUTS="${REPL_LAYOUTS:-shared own}"
SERVERS="${REPL_SERVERS:-basalt redis}"
SERVER_CPU="${REPL_SERVER_CPU:-0}"
REPLICA_CPU="${REPL_REPLICA_CPU:-1}"
CLIENT_CPU="${REPL_CLIENT_CPU:-1}"
PORT_BASE="${REPL_PORT_BASE:-16710}"
DATA_PARENT="${REPL_TMPDIR:-/var/tmp}"
SYNC_TIMEOUT="${REPL_SYNC_TIMEOUT:-1800}"
DOC="${BENCH_DOC:-$root/docs/benchmarks.md}"
CLIENTS=50
PIPELINE=16
HOST=127.0.0.1

log_tag=replication
log_clock=1
ready_timeout=600
stop_grace=120
PROBE_PID=""
cleanup_extra() { stop_probe; }

KEYS=$(((DATA_MB << 20) / VALUE_SIZE))

# stop_one NAME: SIGTERM to NAME's process group, wait (SIGKILL after stop_grace s).
stop_one() {
    local pid="${PID[$1]}" i keep=()
    kill -CONT -- "-$pid" 2>/dev/null || true
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < stop_grace * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    for i in "${PIDS[@]}"; do [ "$i" = "$pid" ] || keep+=("$i"); done
    PIDS=("${keep[@]}")
}

stop_probe() {
    if [ -n "$PROBE_PID" ]; then
        kill -TERM "$PROBE_PID" 2>/dev/null || true
        wait "$PROBE_PID" 2>/dev/null || true
    fi
    PROBE_PID=""
}

# gen_random N SIZE: RESP for redis-cli --pipe: SET key:000000000000 ...
# key:<N-1> with SIZE-byte random values (slices of a random pool), which
# neither RocksDB nor the RDB format can compress: the full sync moves
# about as many bytes as the data set holds.
gen_random() {
    python3 -c '
import os, random, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
pool = os.urandom((1 << 24) + size)
rnd = random.Random(1)
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
mid = b"\r\n$%d\r\n" % size
out = sys.stdout.buffer
for start in range(0, n, 10000):
    parts = []
    for i in range(start, min(n, start + 10000)):
        o = rnd.randrange(1 << 24)
        parts.append(head + b"key:%012d" % i + mid + pool[o:o + size] + b"\r\n")
    out.write(b"".join(parts))
' "$1" "$2"
}

# field PORT FIELD: FIELD of INFO replication.
field() { cli "$1" info replication 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT/results.tsv"; }

# sync_done KIND MASTER REPLICA TARGET: whether the replica has the data set.
sync_done() {
    [ "$(field "$3" master_link_status)" = up ] || return 1
    if [ "$1" = basalt ]; then
        [ "$(field "$3" slave_repl_offset)" -ge "$4" ] 2>/dev/null
    else
        [ "$(field "$3" master_sync_in_progress)" = 0 ]
    fi
}

# attach KIND MASTER REPLICA TARGET: REPLICAOF, then until the replica has
# the master's data up to TARGET (sync_done).
attach() {
    local t0
    t0="$(date +%s.%N)"
    cli "$3" replicaof "$HOST" "$2" >/dev/null
    until sync_done "$1" "$2" "$3" "$4"; do
        alive "${PID[$1-replica]}" || die "$1: the replica died (log: $OUT/$1-replica.log)"
        [ "$(elapsed "$t0" "$(date +%s.%N)" %.0f)" -lt "$SYNC_TIMEOUT" ] || die "$1: full sync took over $SYNC_TIMEOUT s"
        sleep 0.05
    done
}

# bench KIND LABEL PORT: redis-benchmark SET at pipeline 16 against PORT.
bench() {
    local csv="$OUT/set-$1-$2.csv" row
    taskset -c "$CLIENT_CPU" redis-benchmark -h "$HOST" -p "$3" -c "$CLIENTS" -P "$PIPELINE" \
        -d 100 -r "$KEYS" -n "$REQUESTS" -t set --csv >"$csv" 2>"$csv.err" </dev/null ||
        die "$1: redis-benchmark failed: $(head -c 300 "$csv.err")"
    row="$(bench_csv "$csv")"
    IFS=$'\t' read -r _ rps p50 p99 <<<"$row"
    [ -n "$rps" ] || die "$1: no result in $csv"
    result "$1" "set_rps_$2" "$rps"
    result "$1" "set_p50_$2" "$p50"
    result "$1" "set_p99_$2" "$p99"
    log "$1: SET P$PIPELINE $2: $rps ops/s (p50 $p50 ms, p99 $p99 ms)"
}

run_pair() {
    local kind="$1" mport="$2" rport="$3" mcmd rcmd target t0 t1 out
    mkdir -p "$TMP/$kind-master" "$TMP/$kind-replica"
    if [ "$kind" = basalt ]; then
        mcmd=("${basalt_cmd[@]}" --bind "$HOST" --port "$mport" --dir "$TMP/$kind-master" --appendfsync everysec)
        rcmd=("${basalt_cmd[@]}" --bind "$HOST" --port "$rport" --dir "$TMP/$kind-replica" --appendfsync everysec)
    else
        # Without the 5 s Redis waits by default for more replicas to
        # share a diskless transfer: the time measured is the transfer's.
        mcmd=(redis-server --bind "$HOST" --port "$mport" --dir "$TMP/$kind-master" --appendonly yes
            --appendfsync everysec --save "" --daemonize no --repl-diskless-sync-delay 0)
        rcmd=(redis-server --bind "$HOST" --port "$rport" --dir "$TMP/$kind-replica" --appendonly yes
            --appendfsync everysec --save "" --daemonize no)
    fi
    start_server "$kind-master" "$mport" "${mcmd[@]}"
    log "$kind: loading $KEYS keys of $VALUE_SIZE bytes"
    out="$(gen_random "$KEYS" "$VALUE_SIZE" | taskset -c "$CLIENT_CPU" redis-cli -h "$HOST" -p "$mport" --pipe)" ||
        die "$kind: loading failed: $out"
    grep -q 'errors: 0,' <<<"$out" || die "$kind: loading failed: $out"
    result "$kind" keys "$(cli "$mport" dbsize)"
    result "$kind" raw_bytes "$((KEYS * (16 + VALUE_SIZE)))"
    if [ "$kind" = basalt ]; then
        sync
        result "$kind" master_disk_bytes "$(du -sB1 "$TMP/$kind-master" | cut -f1)"
    else
        result "$kind" master_used_memory "$(cli "$mport" info memory | tr -d '\r' | sed -n 's/^used_memory://p')"
    fi
    target="$(field "$mport" master_repl_offset)"
    if [ "$kind" = redis ]; then
        # The load grew the AOF past auto-aof-rewrite-min-size: a rewrite
        # running now would hold back the RDB for the replica, and time
        # that is no transfer's.
        for _ in $(seq 600); do
            cli "$mport" info persistence | tr -d '\r' |
                grep -q -E '^aof_rewrite_(in_progress|scheduled):1' || break
            sleep 0.5
        done
    fi

    SERVER_CPU="$REPLICA_CPU" start_server "$kind-replica" "$rport" "${rcmd[@]}"
    log "$kind: full sync of the replica"
    t0="$(date +%s.%N)"
    attach "$kind" "$mport" "$rport" "$target"
    t1="$(date +%s.%N)"
    result "$kind" sync_seconds "$(elapsed "$t0" "$t1" %.2f)"
    log "$kind: full sync in $(elapsed "$t0" "$t1") s"
    result "$kind" replica_keys "$(cli "$rport" dbsize)"

    taskset -c "$CLIENT_CPU" python3 "$root/bench/replication_lag.py" "$mport" "$rport" "$OUT/lag-$kind.tsv" &
    PROBE_PID=$!
    sleep 1
    bench "$kind" with_probe "$mport"
    stop_probe
    log "$kind: $(($(wc -l <"$OUT/lag-$kind.tsv") - 1)) lag probes"
    local layout cpu saved_cpu="$CLIENT_CPU" attached=1
    for layout in $LAYOUTS; do
        case "$layout" in
            shared) cpu="$CLIENT_CPU" ;;
            own) cpu="$SERVER_CPU" ;;
            *) die "unknown layout $layout (REPL_LAYOUTS: shared, own)" ;;
        esac
        for ((round = 1; round <= ROUNDS; round++)); do
            if ((!attached)); then
                log "$kind: attaching the replica again"
                attach "$kind" "$mport" "$rport" "$(field "$mport" master_repl_offset)"
            fi
            CLIENT_CPU="$cpu" bench "$kind" "${layout}_with_replica_$round" "$mport"
            cli "$rport" replicaof no one >/dev/null
            attached=0
            # The master must have noticed: a run "without a replica" with
            # one still counted would still feed it.
            for _ in $(seq 100); do
                [ "$(field "$mport" connected_slaves)" = 0 ] && break
                sleep 0.1
            done
            [ "$(field "$mport" connected_slaves)" = 0 ] || die "$kind: the master still counts its replica"
            CLIENT_CPU="$cpu" bench "$kind" "${layout}_without_replica_$round" "$mport"
        done
    done
    CLIENT_CPU="$saved_cpu"
    stop_one "$kind-replica"
    stop_one "$kind-master"
    rm -rf "${TMP:?}/$kind-master" "${TMP:?}/$kind-replica"
}

# --- preflight --------------------------------------------------------------
check_cpus
command -v redis-benchmark >/dev/null || die "redis-benchmark is not installed"
need=$(((DATA_MB << 20) * 5 + (2 << 30)))
need_free "$DATA_PARENT" "$need"
use_out "$root/bench/out/replication" "${REPL_OUT:-}"
basalt_server
TMP="$(mktemp -d "$DATA_PARENT/basalt-repl.XXXXXX")"
{
    meta_machine
    printf 'loadavg\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'busy\t%s\n' "$(busy_procs "$busy_pattern")"
    printf 'redis_version\t%s\n' "$(redis_desc)"
    printf 'basalt\t%s\n' "$basalt_desc"
    printf 'command\t%s\n' "$(env_cmdline bench/replication.sh '^(REPL_|BASALT_BIN$)' REPL_OUT)"
    printf 'data_mb\t%s\n' "$DATA_MB"
    printf 'value_size\t%s\n' "$VALUE_SIZE"
    printf 'keys\t%s\n' "$KEYS"
    printf 'requests\t%s\n' "$REQUESTS"
    printf 'rounds\t%s\n' "$ROUNDS"
    printf 'layouts\t%s\n' "$LAYOUTS"
    printf 'clients\t%s\n' "$CLIENTS"
    printf 'pipeline\t%s\n' "$PIPELINE"
    printf 'cpus\tmaster %s, replica %s, clients %s\n' "$SERVER_CPU" "$REPLICA_CPU" "$CLIENT_CPU"
} >"$OUT/meta.tsv"
printf 'server\tmetric\tvalue\n' >"$OUT/results.tsv"

port="$PORT_BASE"
for kind in $SERVERS; do
    run_pair "$kind" "$port" "$((port + 1))"
    port=$((port + 10))
done
printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
cleanup
python3 "$root/bench/replication_report.py" "$OUT" "$DOC"
log "wrote the replication table into $DOC (raw results in $OUT)"
