#!/usr/bin/env bash
# Cluster mode (issue 11, item 8): Basalt beside Debian's redis-server 7.0;
# writes a table into the notes of docs/benchmarks.md (between the cluster
# markers, so bench/run.sh keeps it).
#
#   bench/cluster.sh                     migration of 1 GiB (1,048,576 values of 1000 bytes)
#   CLUSTER_MIGRATE_MB=256 bench/cluster.sh   a smaller slot range (the table says which)
#
# 1. Throughput, one setup at a time: `redis-benchmark --cluster -t set,get
#    -P 16 -c 50 -d 100 -r 1000000 -n CLUSTER_REQUESTS` (without --cluster
#    for a single node, which redis-benchmark refuses as a cluster) against
#    - 1 Basalt node in cluster mode owning every slot (CLUSTERX SETNODES),
#    - 3 Basalt masters (slots split as redis-cli --cluster create does),
#    - 1 Redis node in cluster mode owning every slot (CLUSTER ADDSLOTSRANGE),
#    - a 3-master Redis Cluster (redis-cli --cluster create --cluster-yes).
#    Servers with their AOF/WAL written every second (Basalt --appendfsync
#    everysec; Redis --appendonly yes --appendfsync everysec --save "").
#    Nothing is pinned: 3 servers and the client share the machine's CPUs.
# 2. Migration: two Basalt masters (A 0-8191, B 8192-16383), A loaded with
#    CLUSTER_MIGRATE_MB MiB of 1000-byte random values in 0-8191 (mig:<n>,
#    redis-cli --pipe), then CLUSTERX MIGRATE 0-8191 to B while one client
#    writes to the moving slots (bench/cluster_migrate.py follows TRYAGAIN
#    and MOVED); the time is from MIGRATE to CLUSTER INFO's
#    migrating_state:success, polled every 50 ms; keys and bytes are CLUSTER
#    INFO's migrating_keys and migrating_bytes. Rate limits off
#    (migrate-speed 0, migrate-batch-rate-limit-mb 0); batches of the
#    default migrate-batch-size-kb.
#
# Environment (all optional):
#   CLUSTER_REQUESTS=1000000     requests per redis-benchmark test
#   CLUSTER_MIGRATE_MB=1024      MiB of values in the migrated range
#   CLUSTER_PORT_BASE=17100      ports BASE..BASE+23
#   CLUSTER_TMPDIR=/var/tmp      where the data directories go
#   BASALT_BIN=path              run this basalt-server instead of building it
#   BENCH_DOC=path               page to write into (default docs/benchmarks.md)
#   CLUSTER_OUT=dir              raw output (default bench/out/cluster, wiped)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

REQUESTS="${CLUSTER_REQUESTS:-1000000}"
MIGRATE_MB="${CLUSTER_MIGRATE_MB:-1024}"
PORT_BASE="${CLUSTER_PORT_BASE:-17100}"
DATA_PARENT="${CLUSTER_TMPDIR:-/var/tmp}"
DOC="${BENCH_DOC:-$root/docs/benchmarks.md}"
VALUE_SIZE=1000
CLIENTS=50
PIPELINE=16
HOST=127.0.0.1
# Nothing pinned (see above): taskset to every CPU.
SERVER_CPU="0-$(($(nproc --all) - 1))"
CLIENT_CPU="$SERVER_CPU"

log_tag=cluster
log_clock=1
ready_timeout=120
stop_grace=60

MIGRATE_KEYS=$(((MIGRATE_MB << 20) / VALUE_SIZE))

result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT/results.tsv"; }

node_id() { printf '%040d' "$1"; }

# start_nodes KIND FIRST_PORT COUNT: COUNT servers in cluster mode.
start_nodes() {
    local kind="$1" port="$2" n="$3" i p cmd
    for ((i = 0; i < n; i++)); do
        p=$((port + i))
        mkdir -p "$TMP/$kind-$p"
        if [ "$kind" = basalt ]; then
            cmd=("${basalt_cmd[@]}" --bind "$HOST" --port "$p" --dir "$TMP/$kind-$p"
                --appendfsync everysec --cluster-enabled yes)
        else
            cmd=(redis-server --bind "$HOST" --port "$p" --dir "$TMP/$kind-$p" --appendonly yes
                --appendfsync everysec --save "" --daemonize no --cluster-enabled yes
                --cluster-config-file "$TMP/$kind-$p/nodes.conf")
        fi
        start_server "$kind-$p" "$p" "${cmd[@]}"
    done
}

# basalt_topology FIRST_PORT COUNT: slots split as redis-cli --cluster create does.
basalt_topology() {
    local port="$1" n="$2" i lines="" start end
    for ((i = 0; i < n; i++)); do
        start=$((16384 * i / n))
        end=$((16384 * (i + 1) / n - 1))
        lines+="$(node_id $((port + i))) $HOST $((port + i)) master - $start-$end"$'\n'
    done
    for ((i = 0; i < n; i++)); do
        cli $((port + i)) clusterx setnodeid "$(node_id $((port + i)))" >/dev/null
        [ "$(cli $((port + i)) clusterx setnodes "$lines" 1)" = OK ] || die "SETNODES failed on $((port + i))"
    done
}

# redis_topology FIRST_PORT COUNT
redis_topology() {
    local port="$1" n="$2" i nodes=() ok
    if [ "$n" = 1 ]; then
        cli "$port" cluster addslotsrange 0 16383 >/dev/null
    else
        for ((i = 0; i < n; i++)); do nodes+=("$HOST:$((port + i))"); done
        redis-cli --cluster create "${nodes[@]}" --cluster-yes >"$OUT/redis-create.log" 2>&1 ||
            die "redis-cli --cluster create failed: $(tail -5 "$OUT/redis-create.log")"
    fi
    for _ in $(seq 300); do
        ok=1
        for ((i = 0; i < n; i++)); do
            cli $((port + i)) cluster info | grep -q '^cluster_state:ok' || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    die "the Redis cluster on $port did not reach cluster_state:ok"
}

stop_all() {
    stop_servers
    PID=()
    PORT=()
}

# throughput KIND NODES PORT
throughput() {
    local kind="$1" n="$2" port="$3" csv
    start_nodes "$kind" "$port" "$n"
    "${kind}_topology" "$port" "$n"
    csv="$OUT/bench-$kind-$n.csv"
    log "$kind, $n master(s): redis-benchmark --cluster -t set,get"
    # redis-benchmark refuses --cluster with one node ("Invalid cluster"):
    # the single node, which serves every slot, is benchmarked without it.
    local cluster_flag=(--cluster)
    [ "$n" = 1 ] && cluster_flag=()
    redis-benchmark "${cluster_flag[@]}" -h "$HOST" -p "$port" -c "$CLIENTS" -P "$PIPELINE" -d 100 -r 1000000 \
        -n "$REQUESTS" -t set,get --csv >"$csv" 2>"$csv.err" </dev/null ||
        die "$kind: redis-benchmark failed: $(head -c 300 "$csv.err")"
    python3 - "$csv" "$kind" "$n" >>"$OUT/results.tsv" <<'EOF'
import csv, sys
path, kind, n = sys.argv[1:]
for row in csv.reader(open(path)):
    if row and row[0] in ("SET", "GET") and len(row) >= 7:
        t = row[0].lower()
        print(f"{kind}\t{t}_rps_{n}\t{row[1]}\n{kind}\t{t}_p50_{n}\t{row[4]}\n{kind}\t{t}_p99_{n}\t{row[6]}")
EOF
    grep -q "^$kind"$'\t'"set_rps_$n"$'\t' "$OUT/results.tsv" || die "$kind: no SET result in $csv"
    log "$kind, $n master(s): $(grep -E "^$kind"$'\t'"(set|get)_rps_$n"$'\t' "$OUT/results.tsv" | cut -f2,3 | tr '\n\t' '  ')"
    stop_all
    rm -rf "${TMP:?}"/"$kind"-*
}

migration() {
    local a=$((PORT_BASE + 20)) b=$((PORT_BASE + 21)) out lines
    start_nodes basalt "$a" 2
    lines="$(node_id "$a") $HOST $a master - 0-8191
$(node_id "$b") $HOST $b master - 8192-16383"
    for p in "$a" "$b"; do
        cli "$p" clusterx setnodeid "$(node_id "$p")" >/dev/null
        cli "$p" clusterx setnodes "$lines" 1 >/dev/null
        cli "$p" config set migrate-speed 0 >/dev/null
        cli "$p" config set migrate-batch-rate-limit-mb 0 >/dev/null
    done
    log "migration: loading $MIGRATE_KEYS keys of $VALUE_SIZE bytes in slots 0-8191"
    out="$(python3 "$root/bench/cluster_migrate.py" load "$MIGRATE_KEYS" "$VALUE_SIZE" 8191 |
        redis-cli -h "$HOST" -p "$a" --pipe)" || die "loading failed: $out"
    grep -q 'errors: 0,' <<<"$out" || die "loading failed: $out"
    result basalt migrate_loaded_keys "$(cli "$a" dbsize)"
    sync
    result basalt migrate_source_disk_bytes "$(du -sB1 "$TMP/basalt-$a" | cut -f1)"
    log "migration: CLUSTERX MIGRATE 0-8191 with a write load"
    python3 "$root/bench/cluster_migrate.py" run "$a" "$b" "$(node_id "$b")" 0-8191 "$OUT" ||
        die "the migration failed (logs: $OUT/basalt-$a.log, $OUT/basalt-$b.log)"
    for p in "$a" "$b"; do
        cli "$p" clusterx setslot 0-8191 node "$(node_id "$b")" 2 >/dev/null
    done
    result basalt migrate_destination_keys "$(cli "$b" dbsize)"
    log "migration: $(tr '\n\t' ' =' <"$OUT/migration.tsv")"
    stop_all
}

# --- preflight --------------------------------------------------------------
command -v redis-benchmark >/dev/null || die "redis-benchmark is not installed"
need=$(((MIGRATE_MB << 20) * 4 + (2 << 30)))
need_free "$DATA_PARENT" "$need"
use_out "$root/bench/out/cluster" "${CLUSTER_OUT:-}"
basalt_server
TMP="$(mktemp -d "$DATA_PARENT/basalt-cluster.XXXXXX")"
{
    meta_machine
    printf 'loadavg\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'busy\t%s\n' "$(busy_procs "$busy_pattern")"
    printf 'redis_version\t%s\n' "$(redis_desc)"
    printf 'basalt\t%s\n' "$basalt_desc"
    printf 'command\t%s\n' "$(env_cmdline bench/cluster.sh '^(CLUSTER_|BASALT_BIN$)' CLUSTER_OUT)"
    printf 'requests\t%s\n' "$REQUESTS"
    printf 'clients\t%s\n' "$CLIENTS"
    printf 'pipeline\t%s\n' "$PIPELINE"
    printf 'migrate_mb\t%s\n' "$MIGRATE_MB"
    printf 'migrate_keys\t%s\n' "$MIGRATE_KEYS"
    printf 'value_size\t%s\n' "$VALUE_SIZE"
} >"$OUT/meta.tsv"
printf 'server\tmetric\tvalue\n' >"$OUT/results.tsv"

throughput basalt 1 "$PORT_BASE"
throughput basalt 3 $((PORT_BASE + 1))
throughput redis 1 $((PORT_BASE + 10))
throughput redis 3 $((PORT_BASE + 11))
printf 'loadavg_throughput_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
migration
printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
cleanup
python3 "$root/bench/cluster_report.py" "$OUT" "$DOC"
log "wrote the cluster table into $DOC (raw results in $OUT)"
