#!/usr/bin/env bash
# What a replica costs a master, in CPU time per SET (issue 10, item 8):
# a measure that the other processes of a shared machine disturb much less
# than ops/s do.
#
#   bench/repl_cpu.sh [basalt-server binary]
#
# Starts a master (CPU 0, --appendfsync everysec), fills it with one
# unmeasured run of SETs, then runs the same redis-benchmark SET load
# (pipeline 16, 50 clients, 100-byte values, CPU 1) three times:
#   1. without a replica;
#   2. with a replica (CPU 1, same options) attached and streaming; the
#      replica's CPU is counted until it has applied everything;
#   3. without a replica again (the replica stopped), so that a drift in
#      the master's cost over the runs (a bigger data set, compactions)
#      shows as the difference between 1 and 3.
# For each run it prints the master's CPU time (utime + stime from
# /proc/<pid>/task/*/stat) per thread name in µs per SET and as a share of
# the process's CPU (run 2 shows the `repl-feed` thread's share), and for
# run 2 the replica's.
#
# Environment: RCPU_REQUESTS (default 1000000), RCPU_PORT (default 16794),
# RCPU_KEYS (-r, default 1000000).
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin="$(from_caller "${1:-${CARGO_TARGET_DIR:-$root/target}/release/basalt-server}")"
requests="${RCPU_REQUESTS:-1000000}"
keys="${RCPU_KEYS:-1000000}"
port="${RCPU_PORT:-16794}"
rport=$((port + 1))
log_tag=repl_cpu
port_hint=RCPU_PORT
HOST=127.0.0.1
CLIENT_CPU=1
TMP="$(mktemp -d /var/tmp/basalt-replcpu.XXXXXX)"
OUT="$TMP"

# start NAME CPU PORT: a server of $bin on CPU with its data in $TMP/NAME.
start() {
    SERVER_CPU="$2" start_server "$1" "$3" "$bin" --bind "$HOST" --port "$3" \
        --dir "$TMP/$1" --appendfsync everysec
}

# threads PID: "name ticks" per thread name (utime + stime, clock ticks).
threads() {
    for stat in /proc/"$1"/task/*/stat; do
        # The name is in parentheses and may hold spaces.
        sed -E 's/^[0-9]+ \((.*)\) [A-Za-z] (.*)$/\1|\2/' "$stat" 2>/dev/null |
            awk -F'|' '{ split($2, f, " "); print $1 "\t" f[11] + f[12] }'
    done | awk -F'\t' '{ t[$1] += $2 } END { for (n in t) print n "\t" t[n] }' | sort
}

hz="$(getconf CLK_TCK)"
# report LABEL BEFORE AFTER: µs per SET per thread name, and the total.
report() {
    echo "$1"
    join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 "$2" "$3" |
        awk -F'\t' -v hz="$hz" -v n="$requests" '
            { d = ($3 - $2) / hz; if (d > 0) { cpu[$1] = d; total += d } }
            END {
                for (t in cpu) printf "  %-18s %7.2f s  %6.2f us/SET  %5.1f%%\n", t, cpu[t], 1e6 * cpu[t] / n, 100 * cpu[t] / total
                printf "  %-18s %7.2f s  %6.2f us/SET\n", "TOTAL", total, 1e6 * total / n
            }'
}

bench() {
    taskset -c 1 redis-benchmark -p "$port" -c 50 -P 16 -d 100 -r "$keys" -n "$requests" -t set --csv |
        awk -F'"' '/^"SET"/ { print "  SET ops/s: " $4 }'
}

seq_of() { redis-cli -p "$1" info replication | tr -d '\r' | sed -n "s/^$2://p"; }

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
start master 0 "$port"
master="${PID[master]}"
bench >/dev/null # fill

threads "$master" >"$TMP/m1a"
bench
threads "$master" >"$TMP/m1b"
report "1. master, no replica" "$TMP/m1a" "$TMP/m1b"

start replica 1 "$rport"
replica="${PID[replica]}"
redis-cli -p "$rport" replicaof 127.0.0.1 "$port" >/dev/null
for _ in $(seq 600); do
    m="$(seq_of "$port" master_repl_offset)"
    r="$(seq_of "$rport" slave_repl_offset)"
    [ -n "$r" ] && [ "$r" = "$m" ] && redis-cli -p "$rport" info replication | grep -q 'master_link_status:up' && break
    sleep 0.1
done
sleep 1
threads "$master" >"$TMP/m2a"
threads "$replica" >"$TMP/r2a"
bench
threads "$master" >"$TMP/m2b"
m="$(seq_of "$port" master_repl_offset)"
for _ in $(seq 600); do
    [ "$(seq_of "$rport" slave_repl_offset)" = "$m" ] && break
    sleep 0.1
done
threads "$replica" >"$TMP/r2b"
report "2. master, one replica" "$TMP/m2a" "$TMP/m2b"
report "2. the replica (until it has applied everything)" "$TMP/r2a" "$TMP/r2b"
echo "  master sequence $m, replica sequence $(seq_of "$rport" slave_repl_offset)"

kill -TERM -- "-$replica"
wait "$replica" 2>/dev/null || true
sleep 2
threads "$master" >"$TMP/m3a"
bench
threads "$master" >"$TMP/m3b"
report "3. master, no replica (again)" "$TMP/m3a" "$TMP/m3b"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
