#!/usr/bin/env bash
# The master's CPU time per thread with one replica attached (issue 10,
# item 8): how much of it the replication feed thread takes.
#
#   bench/feed_cpu.sh [basalt-server binary]
#
# Starts an empty master (CPU 0) and replica (CPU 1), both with
# --appendfsync everysec, attaches the replica, runs redis-benchmark SET at
# pipeline 16 (50 clients, 100-byte values, CPU 1) on the master, and
# prints the master's CPU seconds per thread name over the run (from
# /proc/<pid>/task/*/stat), the feed thread's share, the replica's CPU
# seconds, SET ops/s, and whether the replica ended with the master's
# sequence.
#
# Environment: FEED_REQUESTS (default 500000), FEED_PORT (default 16790).
set -euo pipefail
export LC_ALL=C

bin="${1:-target/release/basalt-server}"
requests="${FEED_REQUESTS:-500000}"
port="${FEED_PORT:-16790}"
rport=$((port + 1))
tmp="$(mktemp -d /var/tmp/basalt-feedcpu.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

start() { # cpu port dir
    taskset -c "$1" "$bin" --bind 127.0.0.1 --port "$2" --dir "$3" --appendfsync everysec \
        >"$3.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do
        redis-cli -p "$2" ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "server on $2 did not start" >&2
    exit 1
}

# threads PID: "name ticks" per thread (utime + stime, clock ticks).
threads() {
    for stat in /proc/"$1"/task/*/stat; do
        # The name is in parentheses and may hold spaces.
        sed -E 's/^[0-9]+ \((.*)\) [A-Za-z] (.*)$/\1|\2/' "$stat" 2>/dev/null |
            awk -F'|' '{ split($2, f, " "); print $1 "\t" f[11] + f[12] }'
    done | awk -F'\t' '{ t[$1] += $2 } END { for (n in t) print n "\t" t[n] }' | sort
}

start 0 "$port" "$tmp/master"
master="${pids[0]}"
start 1 "$rport" "$tmp/replica"
redis-cli -p "$rport" replicaof 127.0.0.1 "$port" >/dev/null
for _ in $(seq 300); do
    redis-cli -p "$rport" info replication | grep -q 'master_link_status:up' && break
    sleep 0.1
done
replica="${pids[1]}"
threads "$master" >"$tmp/before"
threads "$replica" >"$tmp/replica-before"
t0="$(date +%s.%N)"
rps="$(taskset -c 1 redis-benchmark -p "$port" -c 50 -P 16 -d 100 -r 1000000 -n "$requests" -t set --csv |
    awk -F'"' '/^"SET"/ { print $4 }')"
t1="$(date +%s.%N)"
threads "$master" >"$tmp/after"
threads "$replica" >"$tmp/replica-after"
hz="$(getconf CLK_TCK)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "SET P16 ops/s with one replica: $rps ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 "$tmp/before" "$tmp/after" |
    awk -F'\t' -v hz="$hz" '
        { d = ($3 - $2) / hz; if (d > 0) { cpu[$1] = d; total += d } }
        END {
            for (n in cpu) printf "  %-18s %7.2f s  %5.1f%%\n", n, cpu[n], 100 * cpu[n] / total
            printf "  %-18s %7.2f s\n", "total", total
            printf "feed thread share of the master CPU: %.1f%%\n", 100 * cpu["repl-feed"] / total
        }'
total() { awk -F'\t' '{ t += $2 } END { print t }' "$1"; }
echo "replica CPU: $(awk -v a="$(total "$tmp/replica-before")" -v b="$(total "$tmp/replica-after")" -v hz="$hz" \
    'BEGIN { printf "%.2f", (b - a) / hz }') s"
sleep 2
m="$(redis-cli -p "$port" info replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')"
r="$(redis-cli -p "$rport" info replication | tr -d '\r' | sed -n 's/^slave_repl_offset://p')"
echo "master sequence $m, replica sequence $r"
