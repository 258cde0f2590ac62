#!/usr/bin/env bash
# Slot-migration throughput through basalt-controller (issue 12): one job
# moving a slot range holding ~MIGRATE_DATA_MB MiB to a new, empty shard
# while a cluster client writes; the table goes into docs/benchmarks.md
# between the controller-migrate markers.
#
#   bench/controller-migrate.sh                      100 MiB, both settings
#   MIGRATE_DATA_MB=20 bench/controller-migrate.sh   a smaller data set
#
# For each setting (Kvrocks' defaults: migrate-speed 4096 keys/s and
# migrate-batch-rate-limit-mb 16; unthrottled: both 0):
#   1. starts nodes A, C and B (basalt-server --cluster-enabled yes, fresh
#      temp dirs) and a controller on an embedded store;
#   2. creates cluster c of A (slots 0-8191) and C (8192-16383) and loads
#      MIGRATE_DATA_MB MiB of MIGRATE_VALUE_SIZE-byte random values into
#      A's slots with redis-cli --pipe;
#   3. adds B as a shard (POST .../shards), starts the write load
#      (bench/controller_migrate_writer.py: SETs of new keys through the
#      cluster at MIGRATE_WRITE_RATE a second, following MOVED and retrying
#      TRYAGAIN), and asks the controller to migrate 0-8191 to B (POST
#      .../migrate);
#   4. reads the job's keys, bytes and duration (started to finished, which
#      includes publishing the new topology) from the controller's log line
#      "migration done", then checks B holds every loaded key and every
#      write the cluster acknowledged is there.
# MB/s = job bytes (what the source sent: snapshot + WAL) / job seconds.
#
# Environment (all optional):
#   MIGRATE_DATA_MB=100  MIGRATE_VALUE_SIZE=1000  MIGRATE_PORT_BASE=16850
#   MIGRATE_WRITE_RATE=1000  SETs a second during the job (keep it below
#                            migrate-speed, or the WAL catch-up of the
#                            default setting never converges)
#   MIGRATE_SETTINGS="default unthrottled"
#   BASALT_BIN=path CONTROLLER_BIN=path   binaries (default: built with cargo
#                                         into $CARGO_TARGET_DIR or target)
#   BENCH_DOC=path                        page to write into
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
DATA_MB="${MIGRATE_DATA_MB:-100}"
VALUE_SIZE="${MIGRATE_VALUE_SIZE:-1000}"
WRITE_RATE="${MIGRATE_WRITE_RATE:-1000}"
PORT_BASE="${MIGRATE_PORT_BASE:-16850}"
SETTINGS="${MIGRATE_SETTINGS:-default unthrottled}"
DOC="${BENCH_DOC:-$root/docs/benchmarks.md}"
HOST=127.0.0.1

log() { echo "controller-migrate: $(date -u +%H:%M:%S) $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

target="${CARGO_TARGET_DIR:-$root/target}"
if [ -z "${BASALT_BIN:-}" ] || [ -z "${CONTROLLER_BIN:-}" ]; then
    log "building basalt-server and basalt-controller (release)"
    cargo build --release -p basalt-server -p basalt-controller >&2
fi
BASALT_BIN="${BASALT_BIN:-$target/release/basalt-server}"
CONTROLLER_BIN="${CONTROLLER_BIN:-$target/release/basalt-controller}"

TMP="$(mktemp -d /var/tmp/basalt-migrate-bench.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cli() { redis-cli -h "$HOST" -p "$1" "${@:2}"; }
api() { # METHOD PATH [BODY]
    curl -sS -X "$1" -H 'content-type: application/json' \
        "http://$HOST:$CTL_PORT/api/v1$2" ${3:+-d "$3"}
}
wait_ping() {
    for _ in $(seq 200); do
        [ "$(cli "$1" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    die "node on port $1 did not start"
}

# Writes SET commands in RESP for DATA_MB MiB of random values, on keys
# whose slot is in 0-8191.
load_data() {
    python3 - "$DATA_MB" "$VALUE_SIZE" <<'EOF' | cli "$1" --pipe >&2
import base64, os, sys
mb, size = int(sys.argv[1]), int(sys.argv[2])
n = mb * 1024 * 1024 // size

def slot(key):
    crc = 0
    for byte in key:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc % 16384

out = sys.stdout.buffer
i = written = 0
while written < n:
    key = b"load:%d" % i
    i += 1
    if slot(key) > 8191:
        continue
    written += 1
    val = base64.b64encode(os.urandom(size))[:size]
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(val), val))
EOF
}

declare -A ROW_KEYS ROW_BYTES ROW_MS ROW_WRITES
run_setting() {
    local setting="$1" port_a port_b port_c dir args
    case "$setting" in
        default) args=() ;;
        unthrottled) args=(--migrate-speed 0 --migrate-batch-rate-limit-mb 0) ;;
        *) die "unknown setting $setting" ;;
    esac
    port_a=$PORT_BASE
    port_b=$((PORT_BASE + 1))
    CTL_PORT=$((PORT_BASE + 2))
    port_c=$((PORT_BASE + 3))
    dir="$TMP/$setting"
    mkdir -p "$dir/a" "$dir/b" "$dir/c"
    "$BASALT_BIN" --port "$port_a" --dir "$dir/a" --cluster-enabled yes "${args[@]}" \
        >"$dir/a.log" 2>&1 &
    PIDS+=($!)
    local pid_a=$!
    "$BASALT_BIN" --port "$port_b" --dir "$dir/b" --cluster-enabled yes "${args[@]}" \
        >"$dir/b.log" 2>&1 &
    PIDS+=($!)
    local pid_b=$!
    "$BASALT_BIN" --port "$port_c" --dir "$dir/c" --cluster-enabled yes "${args[@]}" \
        >"$dir/c.log" 2>&1 &
    PIDS+=($!)
    local pid_c=$!
    NO_COLOR=1 "$CONTROLLER_BIN" --addr "$HOST:$CTL_PORT" --dir "$dir/ctl" >"$dir/ctl.log" 2>&1 &
    PIDS+=($!)
    local pid_ctl=$!
    wait_ping "$port_a"
    wait_ping "$port_b"
    wait_ping "$port_c"
    for _ in $(seq 100); do api GET /namespaces >/dev/null 2>&1 && break; sleep 0.1; done
    api POST /namespaces '{"namespace":"bench"}' >/dev/null
    api POST /namespaces/bench/clusters \
        "{\"name\":\"c\",\"nodes\":[\"$HOST:$port_a\",\"$HOST:$port_c\"],\"replicas\":1}" >/dev/null
    log "$setting: loading $DATA_MB MiB into node A"
    load_data "$port_a"
    local loaded
    loaded="$(cli "$port_a" DBSIZE)"
    api POST /namespaces/bench/clusters/c/shards "{\"nodes\":[\"$HOST:$port_b\"]}" >/dev/null
    python3 bench/controller_migrate_writer.py write "$HOST" "$port_a" "$WRITE_RATE" \
        "$dir/acked" >"$dir/writer.log" 2>&1 &
    local writer=$!
    PIDS+=($writer)
    local writer_started=$SECONDS
    sleep 2
    log "$setting: migrating 0-8191 ($loaded keys) from A to B under the write load"
    api POST /namespaces/bench/clusters/c/migrate '{"target":2,"slot":"0-8191"}' >"$dir/job.json"
    grep -q '"migration"' "$dir/job.json" || die "migrate refused: $(cat "$dir/job.json")"
    local line=""
    for _ in $(seq 3000); do
        line="$(sed 's/\x1b\[[0-9;]*m//g' "$dir/ctl.log" | grep -E 'migration (done|failed)' || true)"
        [ -n "$line" ] && break
        sleep 0.2
    done
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    local writer_secs=$((SECONDS - writer_started))
    [ -n "$line" ] || die "the job did not end in 600 s"
    case "$line" in *"migration failed"*) die "$setting: $line" ;; esac
    field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
    ROW_KEYS[$setting]="$(field keys)"
    ROW_BYTES[$setting]="$(field bytes)"
    ROW_MS[$setting]="$(field ms)"
    # Every loaded key is on B (the writer's keys come on top).
    local on_b
    on_b="$(cli "$port_b" --scan --pattern 'load:*' | wc -l)"
    [ "$on_b" -eq "$loaded" ] || die "$setting: $on_b of $loaded loaded keys on B"
    local checked
    checked="$(python3 bench/controller_migrate_writer.py check "$HOST" "$port_a" "$dir/acked")" ||
        die "$setting: acknowledged writes missing: $checked"
    ROW_WRITES[$setting]="$(($(wc -l <"$dir/acked") / (writer_secs > 0 ? writer_secs : 1)))"
    log "$setting: writer: $checked"
    log "$setting: ${ROW_KEYS[$setting]} keys, ${ROW_BYTES[$setting]} bytes in ${ROW_MS[$setting]} ms"
    kill "$pid_a" "$pid_b" "$pid_c" "$pid_ctl"
    wait "$pid_a" "$pid_b" "$pid_c" "$pid_ctl" 2>/dev/null || true
    rm -rf "$dir/a" "$dir/b" "$dir/c"
}

started="$(date -u '+%Y-%m-%d %H:%M') UTC"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SETTINGS; do run_setting "$s"; done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

table="$TMP/table.md"
{
    echo "Run $started on $(nproc) CPUs, load average $load_before at the start and $load_after at the end (shared machine). Command: \`MIGRATE_DATA_MB=$DATA_MB bench/controller-migrate.sh\`."
    echo
    echo "One job moving slots 0-8191 of a shard holding $DATA_MB MiB ($VALUE_SIZE-byte random values) to an empty third shard, while a cluster client (bench/controller_migrate_writer.py) SETs new keys at up to $WRITE_RATE a second; every acknowledged one is read back afterwards. Time: the job's start to its end (including publishing the new topology); bytes: what the source sent (snapshot and WAL)."
    echo
    echo "| setting | keys | MB sent | seconds | MB/s | keys/s | writer SETs/s acked |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for s in $SETTINGS; do
        python3 - "$s" "${ROW_KEYS[$s]}" "${ROW_BYTES[$s]}" "${ROW_MS[$s]}" "${ROW_WRITES[$s]:-?}" <<'EOF'
import sys
name, keys, b, ms, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
label = {"default": "defaults (4096 keys/s, 16 MB/s)", "unthrottled": "unthrottled (0, 0)"}[name]
s = ms / 1000
print(f"| {label} | {keys:,} | {b/1e6:,.1f} | {s:.1f} | {b/1e6/s:,.1f} | {keys/s:,.0f} | {w} |")
EOF
    done
} >"$table"
cat "$table"

start='<!-- controller-migrate:start -->'
end='<!-- controller-migrate:end -->'
# Inside the notes of the page (bench/run.sh keeps only those), before
# their end marker, the first time.
python3 - "$DOC" "$table" "$start" "$end" <<'EOF'
import sys
doc, table, start, end = sys.argv[1:]
text = open(doc).read()
if start not in text:
    section = ("\n### Slot migration through the controller (issue 12, generated by "
               "bench/controller-migrate.sh)\n\n%s\n%s\n" % (start, end))
    notes = "<!-- notes:end -->"
    at = text.rindex(notes) if notes in text else len(text)
    text = text[:at] + section + text[at:]
a, b = text.index(start) + len(start), text.index(end)
open(doc, "w").write(text[:a] + "\n" + open(table).read() + text[b:])
EOF
log "table written into $DOC"
