#!/usr/bin/env bash
# Failover time of basalt-controller (issue 12): kill -9 a master, time until
# the first write to one of its slots succeeds through the cluster. Writes a
# table into the notes of docs/benchmarks.md (between the controller-failover
# markers, so bench/run.sh keeps it).
#
#   bench/controller-failover.sh                       10 runs at 1000 ms and at 200 ms
#   FO_INTERVALS="1000" FO_RUNS=3 bench/controller-failover.sh
#
# Each run starts afresh: 4 basalt-server nodes in cluster mode (2 shards of
# a master and a replica), a basalt-controller with --probe-interval-ms
# INTERVAL --failure-threshold FO_THRESHOLD, a cluster created through its
# API; waits until both replicas are in sync, then kills the first shard's
# master with SIGKILL and runs `redis-cli -c -p <the other master> SET key v`
# for a key of the killed shard in a loop, with no pause, until it answers
# OK (before the failover the other master redirects to the dead one and the
# connection fails; afterwards it redirects to the promoted replica).
# Time = from just before the kill to that OK.
#
# Environment (all optional):
#   FO_INTERVALS="1000 200"   probe intervals (ms) to measure
#   FO_THRESHOLD=3            failed probes before a failover
#   FO_RUNS=10                runs per interval
#   FO_PORT_BASE=17310        nodes on BASE..BASE+3, the controller on BASE+9
#   CARGO_TARGET_DIR          where the release binaries are (default target)
#   BENCH_DOC=path            page to write into (default docs/benchmarks.md)
#   FO_LOGS=dir               keep each run's controller log there
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
INTERVALS="${FO_INTERVALS:-1000 200}"
THRESHOLD="${FO_THRESHOLD:-3}"
RUNS="${FO_RUNS:-10}"
BASE="${FO_PORT_BASE:-17310}"
DOC="${BENCH_DOC:-$root/docs/benchmarks.md}"
BIN="${CARGO_TARGET_DIR:-$root/target}/release"
HOST=127.0.0.1
CTL="http://$HOST:$((BASE + 9))"

log() { echo "controller-failover: $*" >&2; }

if [ -z "${FO_SKIP_BUILD:-}" ]; then
    cargo build --release -q -p basalt-server -p basalt-controller
fi
if [ ! -x "$BIN/basalt-server" ] || [ ! -x "$BIN/basalt-controller" ]; then
    log "no binaries in $BIN"
    exit 1
fi

TMP="$(mktemp -d)"
PIDS=()
stop_all() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
trap 'stop_all; rm -rf "$TMP"' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

wait_for() { # seconds, command...: until the command succeeds
    local secs="$1" i
    shift
    for ((i = 0; i < secs * 20; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    log "timed out: $*"
    return 1
}

in_sync() { # replica-port master-port
    local r m
    r="$(redis-cli -p "$1" INFO replication | tr -d '\r')"
    m="$(redis-cli -p "$2" INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')"
    grep -q '^master_link_status:up' <<<"$r" &&
        [ "$(sed -n 's/^slave_repl_offset://p' <<<"$r")" = "$m" ]
}

# one_run INTERVAL: prints the failover time in ms.
one_run() {
    local interval="$1" i port dir
    trap stop_all EXIT # a subshell: its own processes
    rm -rf "${TMP:?}"/*
    for i in 0 1 2 3 9; do
        if (exec 3<>"/dev/tcp/$HOST/$((BASE + i))") 2>/dev/null; then
            log "port $((BASE + i)) is in use (set FO_PORT_BASE)"
            exit 1
        fi
    done
    for i in 0 1 2 3; do
        port=$((BASE + i))
        dir="$TMP/node$i"
        mkdir -p "$dir"
        "$BIN/basalt-server" --bind "$HOST" --port "$port" --dir "$dir" \
            --cluster-enabled yes >"$TMP/node$i.log" 2>&1 &
        PIDS+=($!)
    done
    "$BIN/basalt-controller" --addr "$HOST:$((BASE + 9))" --dir "$TMP/ctl" \
        --probe-interval-ms "$interval" --failure-threshold "$THRESHOLD" \
        >"$TMP/ctl.log" 2>&1 &
    PIDS+=($!)
    for i in 0 1 2 3; do wait_for 30 redis-cli -p $((BASE + i)) PING; done
    wait_for 30 curl -sf "$CTL/api/v1/namespaces"
    curl -sf -XPOST "$CTL/api/v1/namespaces" -H 'content-type: application/json' \
        -d '{"namespace":"bench"}' >/dev/null
    curl -sf -XPOST "$CTL/api/v1/namespaces/bench/clusters" -H 'content-type: application/json' \
        -d "{\"name\":\"c\",\"replicas\":2,\"nodes\":[\"$HOST:$BASE\",\"$HOST:$((BASE + 1))\",\"$HOST:$((BASE + 2))\",\"$HOST:$((BASE + 3))\"]}" >/dev/null
    # A key of the first shard (slots 0-8191), and some data in it.
    local key=""
    for i in $(seq 1 100); do
        if [ "$(redis-cli -p "$BASE" CLUSTER KEYSLOT "fo:$i")" -le 8191 ]; then
            key="fo:$i"
            break
        fi
    done
    for i in $(seq 1 50); do redis-cli -c -p $((BASE + 2)) SET "fo:$i" "$i" >/dev/null; done
    wait_for 30 in_sync $((BASE + 1)) "$BASE"
    wait_for 30 in_sync $((BASE + 3)) $((BASE + 2))
    local t0 t1
    t0="$(now_ms)"
    kill -9 "${PIDS[0]}"
    until [ "$(redis-cli -c -p $((BASE + 2)) SET "$key" after 2>/dev/null)" = OK ]; do :; done
    t1="$(now_ms)"
    # The write landed on the promoted replica.
    [ "$(redis-cli -p $((BASE + 1)) GET "$key")" = after ] || log "warning: write not on the new master"
    if [ -n "${FO_LOGS:-}" ]; then
        mkdir -p "$FO_LOGS"
        cp "$TMP/ctl.log" "$FO_LOGS/controller-$interval-$t0-$((t1 - t0))ms.log"
    fi
    stop_all
    echo $((t1 - t0))
}

declare -A MEDIAN MAX ALL
for interval in $INTERVALS; do
    times=()
    for run in $(seq 1 "$RUNS"); do
        t="$(one_run "$interval")"
        log "interval ${interval} ms, run $run: $t ms"
        times+=("$t")
    done
    mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
    n=${#sorted[@]}
    if ((n % 2)); then
        MEDIAN[$interval]=${sorted[$((n / 2))]}
    else
        MEDIAN[$interval]=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
    fi
    MAX[$interval]=${sorted[$((n - 1))]}
    ALL[$interval]="${times[*]}"
done

{
    echo "### Controller failover time (issue 12, generated by bench/controller-failover.sh)"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end. $RUNS runs per probe interval, failure threshold $THRESHOLD; each run: 2 shards of a master and a replica, SIGKILL of a master, then \`redis-cli -c\` SETs of one of its keys through the other master in a loop until one answers OK. Time = kill to that first successful write on the promoted replica."
    echo
    echo "| probe interval | median ms | max ms | all runs (ms) |"
    echo "|---:|---:|---:|---|"
    for interval in $INTERVALS; do
        echo "| $interval ms | ${MEDIAN[$interval]} | ${MAX[$interval]} | ${ALL[$interval]} |"
    done
} >"$TMP/table.md"
cat "$TMP/table.md"

# Between its markers, inside the notes section of the page (bench/run.sh
# keeps that section across its runs); added at the end of the notes first.
python3 - "$DOC" "$TMP/table.md" <<'EOF2'
import sys
doc, table = sys.argv[1:]
begin, end = "<!-- controller-failover:begin -->", "<!-- controller-failover:end -->"
text = open(doc).read()
table = open(table).read()
if begin in text and end in text:
    text = text[: text.index(begin) + len(begin)] + "\n" + table + text[text.index(end) :]
else:
    block = begin + "\n" + table + end + "\n"
    notes_end = "<!-- notes:end -->"
    if notes_end in text:
        text = text.replace(notes_end, block + notes_end, 1)
    else:
        text += "\n" + block
open(doc, "w").write(text)
EOF2
log "table written into $DOC"
