# shellcheck shell=bash
# What bench/run.sh, profile.sh, large.sh and compare.sh share. Sourced, never
# run; sourcing sets caller_pwd and root (the repository) and installs the
# cleanup traps. The sourcing script then sets what these functions read:
#   log_tag                     log line prefix ("bench"); log_clock=1 adds the UTC time
#   HOST SERVER_CPU CLIENT_CPU  where servers listen; the CPU servers and clients get
#   OUT                         directory of the server logs (NAME.log)
#   TMP                         temp dir, removed by cleanup
# and optionally:
#   port_hint      printf format of the variable that sets a server's port, for
#                  the "port in use" error; %s = the server's NAME in capitals
#   ready_timeout  seconds wait_ready waits for PING (default 60)
#   stop_grace     seconds a server gets to exit after SIGTERM (default 10)
#   server_pid_file  start_server writes each server's pid there
#   cleanup_extra  a function cleanup calls first (samplers, perf, ...)
# Some of the functions set variables for the sourcing script (basalt_cmd,
# basalt_bin, basalt_desc, DRIVER_BIN, ncpu, OUT, SERVER_PID).
# shellcheck disable=SC2034,SC2154 # variables set for or by the sourcing script

caller_pwd="$PWD"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() {
    if [ -n "${log_clock:-}" ]; then
        echo "$log_tag: $(date -u +%H:%M:%S) $*" >&2
    else
        echo "$log_tag: $*" >&2
    fi
}
die() {
    log "error: $*"
    exit 1
}

# --- processes ----------------------------------------------------------------
# Every server runs in a session of its own (setsid), so it leads a new process
# group and one signal to -PID reaches all of it: RocksDB's flush and
# compaction threads, Redis's bio threads, an AOF-rewrite child. freeze,
# resume and stop_servers rely on that. Only the processes started here are
# ever signalled.
declare -A PID=() PORT=() # NAME -> group leader, port (kept after a stop)
PIDS=()                   # group leaders started and not stopped yet
SERVER_PID=""             # the server started last, until stop_servers
TMP=""

# Running and not a zombie (kill -0 succeeds on a zombie, too).
alive() {
    local st
    st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [ -n "$st" ] && [ "${st:0:1}" != Z ]
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

cli() { taskset -c "$CLIENT_CPU" redis-cli -h "$HOST" -p "$1" "${@:2}"; }

# wait_ready NAME PID PORT: until PING answers PONG (ready_timeout s at most).
wait_ready() {
    local name="$1" pid="$2" port="$3" secs="${ready_timeout:-60}" i
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || {
            tail -n 20 "$OUT/$name.log" >&2 || true
            die "$name is not running (log: $OUT/$name.log)"
        }
        [ "$(cli "$port" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    die "$name did not answer PING on $HOST:$port within $secs s"
}

# start_server NAME PORT CMD...: CMD in its own session, pinned to SERVER_CPU,
# output to OUT/NAME.log (truncated at NAME's first start, appended to on a
# restart); returns once it answers PING.
start_server() {
    local name="$1" port="$2" pid hint=""
    shift 2
    if port_busy "$port"; then
        # shellcheck disable=SC2059 # port_hint is a format
        [ -z "${port_hint:-}" ] || printf -v hint " (set $port_hint)" "${name^^}"
        die "port $port is already in use$hint"
    fi
    log "starting $name on $HOST:$port: $*"
    [ -n "${PID[$name]:-}" ] || : >"$OUT/$name.log"
    setsid taskset -c "$SERVER_CPU" "$@" >>"$OUT/$name.log" 2>&1 </dev/null &
    pid=$!
    PIDS+=("$pid")
    PID[$name]=$pid
    PORT[$name]=$port
    SERVER_PID=$pid
    [ -z "${server_pid_file:-}" ] || echo "$pid" >"$server_pid_file"
    wait_ready "$name" "$pid" "$port"
    # setsid forks only when it is a group leader already (not the case for a
    # background job); if it did, $pid would not be the group to signal.
    [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] || die "$name: pid $pid is not its own process group"
}

# freeze NAME / resume NAME: SIGSTOP / SIGCONT to NAME's whole process group.
# A frozen server keeps its data, caches and connections but uses no CPU, so
# it cannot disturb the measurement of another one (background flushes and
# compactions included); work it still owes runs in its own turn.
freeze() { kill -STOP -- "-${PID[$1]}" || die "$1 (pid ${PID[$1]}) is gone"; }
resume() { kill -CONT -- "-${PID[$1]}" || die "$1 (pid ${PID[$1]}) is gone"; }
# thaw NAME: freeze every other server, resume NAME, wait until NAME answers.
thaw() {
    local s
    for s in "${!PID[@]}"; do
        [ "$s" = "$1" ] || freeze "$s"
    done
    resume "$1"
    wait_ready "$1" "${PID[$1]}" "${PORT[$1]}"
}

# stop_servers: SIGCONT (a frozen server would not act on SIGTERM) and SIGTERM
# to every server still running, then wait for each, SIGKILL after stop_grace s.
stop_servers() {
    local pid i grace="${stop_grace:-10}"
    for pid in "${PIDS[@]}"; do
        kill -CONT -- "-$pid" 2>/dev/null || true
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < grace * 10; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            log "pid $pid ignored SIGTERM for ${grace}s; SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    SERVER_PID=""
}

cleanup() {
    if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
    stop_servers
    [ -n "$TMP" ] && rm -rf "$TMP"
    TMP=""
}
trap cleanup EXIT
# Signals end the script through exit, so that the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# status_kib PID FIELD: FIELD (VmRSS, VmHWM, ...) of /proc/PID/status, in KiB.
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# proc_ticks PID: CPU time of the whole process (utime + stime, all threads), in clock ticks.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# --- loading keys -------------------------------------------------------------
# gen_load N SIZE: RESP for redis-cli --pipe: SET key:000000000000 ... key:<N-1>,
# SIZE-byte values. The names are exactly redis-benchmark's "key:__rand_int__"
# (12 digits, zero padded), so a GET in the benchmark hits an existing key and
# a SET overwrites one; and the count is exact (random SETs would need ~14M
# requests to cover 1M keys).
gen_load() {
    # shellcheck disable=SC2016 # $3 and $%d are Python's
    python3 -c '
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
v = b"x" * size
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
tail = b"\r\n$%d\r\n" % size + v + b"\r\n"
out = sys.stdout.buffer
for start in range(0, n, 10000):
    out.write(b"".join(head + b"key:%012d" % i + tail for i in range(start, min(n, start + 10000))))
' "$1" "$2"
}
# pipe_load PORT N SIZE TIMEOUT: gen_load N SIZE into the server on PORT, from
# the client CPU, killed after TIMEOUT s (0: never). redis-cli prints its
# summary ("errors: E, replies: R") on stdout.
pipe_load() {
    gen_load "$2" "$3" | timeout --foreground "$4" taskset -c "$CLIENT_CPU" redis-cli -h "$HOST" -p "$1" --pipe
}

# bench_csv CSV: test, ops/s, p50 and p99 ms of the last row of a
# redis-benchmark --csv file, tab-separated (four empty fields if it has none).
# --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
#        "p95_latency_ms","p99_latency_ms","max_latency_ms"
bench_csv() {
    python3 -c '
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] != "test"]
print("\t".join([rows[-1][0], rows[-1][1], rows[-1][4], rows[-1][6]] if rows and len(rows[-1]) >= 7 else ["", "", "", ""]))
' "$1"
}

# elapsed T0 T1 [FORMAT]: seconds from T0 to T1 (date +%s.%N), printf FORMAT (%.1f).
elapsed() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { printf f, b - a }'; }

# --- preflight and metadata ---------------------------------------------------
# check_cpus: ncpu = the machine's CPUs; dies unless SERVER_CPU and CLIENT_CPU exist.
check_cpus() {
    ncpu="$(nproc --all)"
    if [ "$ncpu" -le "$CLIENT_CPU" ] || [ "$ncpu" -le "$SERVER_CPU" ]; then
        die "needs CPUs $SERVER_CPU and $CLIENT_CPU; this machine has $ncpu"
    fi
}

# busy_procs REGEX: "name xN, ..." of the running commands REGEX matches.
# Compilers or other benchmarks on the machine make every number lie.
busy_procs() {
    # shellcheck disable=SC2009 # counts by name, which pgrep does not
    ps -eo comm= | grep -E "$1" | sort | uniq -c |
        awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }' || true
}

# use_out DEFAULT [GIVEN]: OUT = GIVEN as it is, or else DEFAULT wiped first;
# created, and made absolute.
use_out() {
    if [ -z "${2:-}" ]; then
        OUT="$1"
        rm -rf "$OUT"
    else
        OUT="$2"
    fi
    mkdir -p "$OUT"
    OUT="$(cd "$OUT" && pwd)"
}

# from_caller PATH: PATH, a relative one taken from where the script was started.
from_caller() {
    case "$1" in /*) echo "$1" ;; *) echo "$caller_pwd/$1" ;; esac
}
# basalt_bin_cmd: basalt_cmd = BASALT_BIN split on spaces; a relative path in
# the first word is from where the script was started (a bare name: from PATH).
basalt_bin_cmd() {
    # shellcheck disable=SC2153 # BASALT_BIN comes from the environment
    read -r -a basalt_cmd <<<"$BASALT_BIN"
    case "${basalt_cmd[0]}" in */*) basalt_cmd[0]="$(from_caller "${basalt_cmd[0]}")" ;; esac
}
# release_bin NAME: where cargo build --release puts binary NAME.
release_bin() {
    local dir="${CARGO_TARGET_DIR:-$root/target}"
    case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
    echo "$dir/release/$1"
}
# build_basalt_server: basalt_bin = a fresh release build, basalt_desc = its commit.
build_basalt_server() {
    local rev
    log "building basalt-server (release)"
    cargo build --release -p basalt-server
    basalt_bin="$(release_bin basalt-server)"
    rev="$(git rev-parse -q --verify --short HEAD 2>/dev/null || echo 'no commit')"
    [ -n "$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null)" ] && rev="$rev + uncommitted changes"
    basalt_desc="basalt-server, release build of $rev"
}
# basalt_server: basalt_cmd and basalt_desc from BASALT_BIN, or a fresh
# release build.
basalt_server() {
    if [ -n "${BASALT_BIN:-}" ]; then
        basalt_bin_cmd
        basalt_desc="\`$BASALT_BIN\` (BASALT_BIN)"
    else
        build_basalt_server
        basalt_cmd=("$basalt_bin")
    fi
}
# need_free DIR BYTES [HINT]: dies unless DIR's file system has BYTES free.
need_free() {
    local free
    free="$(df -PB1 "$1" | awk 'NR == 2 { print $4 }')"
    [ "$free" -ge "$2" ] || die "$1 has $((free >> 30)) GiB free, this run needs ~$(($2 >> 30)) GiB${3:+ ($3)}"
}
# What busy_procs looks for: other programs that take the CPUs a run needs.
busy_pattern='^(rustc|cc1plus|cc1|ld|perf|redis-benchmark|basalt-bench|redis-server|basalt-server)$'
# build_driver: DRIVER_BIN = a fresh release build of bench/driver (basalt-bench).
build_driver() {
    cargo build --release -p basalt-bench
    DRIVER_BIN="$(release_bin basalt-bench)"
}

# env_cmdline BASE REGEX [SKIP...]: BASE preceded by VAR=value for every
# exported variable REGEX matches, but the SKIP ones: how to repeat this run.
env_cmdline() {
    local line="$1" re="$2" v s
    shift 2
    for v in $(compgen -e | grep -E "$re" | sort); do
        for s in "$@"; do
            [ "$v" = "$s" ] && continue 2
        done
        line="$v=$(printf %q "${!v}") $line"
    done
    echo "$line"
}

# meta_machine: the meta.tsv lines that describe the machine.
meta_machine() {
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'nproc\t%s\n' "$(nproc --all)"
    printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'mem\t%s\n' "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
}
# redis_desc: redis-server's version, and its Debian package's.
redis_desc() {
    printf '%s%s\n' "$(redis-server --version | awk '{ print $1, $2, $3 }')" \
        "$(dpkg-query -W -f=' (Debian package ${Version})' redis-server 2>/dev/null || true)"
}
