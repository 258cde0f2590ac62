#!/usr/bin/env bash
# Basalt against Basalt: two or more server binaries side by side in one run,
# to see what a change to the request path bought (or cost).
#
#   bench/compare.sh LABEL=BINARY [LABEL=BINARY ...]
#   e.g. bench/compare.sh before=/var/tmp/basalt-before/basalt-server \
#                         after=target/release/basalt-server
#
# Each binary is started as bench/run.sh starts Basalt (--appendfsync
# everysec, fresh temp dir, pinned to CPU 0; the client on CPU 1), loaded
# with the same keys, then each test runs on every binary in turn, round after
# round, the order flipping every round; medians of ops/s go to a Markdown
# table on stdout (ratios against the first binary). Only one server runs at a
# time: the others are frozen with SIGSTOP, as in bench/run.sh.
#
# Environment: COMPARE_TESTS ("get set incr lpush lpop hset zadd"; LPOP pops
# what LPUSH pushed just before), COMPARE_PIPELINES
# ("1 16"), COMPARE_REQUESTS (100000 at P1; 4x at P16), COMPARE_ROUNDS (3),
# COMPARE_LOAD_KEYS (1000000), COMPARE_SERVER_CPU (0), COMPARE_CLIENT_CPU (1).
set -euo pipefail

[ $# -ge 1 ] || { sed -n 2,18p "$0"; exit 2; }
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log_tag=compare
tests="${COMPARE_TESTS:-get set incr lpush lpop hset zadd}"
pipelines="${COMPARE_PIPELINES:-1 16}"
requests="${COMPARE_REQUESTS:-100000}"
rounds="${COMPARE_ROUNDS:-3}"
load_keys="${COMPARE_LOAD_KEYS:-1000000}"
SERVER_CPU="${COMPARE_SERVER_CPU:-0}"
CLIENT_CPU="${COMPARE_CLIENT_CPU:-1}"
HOST=127.0.0.1
ready_timeout=10

# Each server's data in TMP/LABEL, its log in TMP/LABEL.log.
TMP="$(mktemp -d /tmp/basalt-compare.XXXXXX)"
OUT="$TMP"
labels=()
next_port=17660
for spec in "$@"; do
    label="${spec%%=*}"
    bin="${spec#*=}"
    [ -x "$bin" ] || { log "$bin is not executable"; exit 1; }
    labels+=("$label")
    mkdir -p "$TMP/$label"
    start_server "$label" "$next_port" "$bin" --bind "$HOST" --port "$next_port" \
        --dir "$TMP/$label" --appendfsync everysec
    next_port=$((next_port + 1))
    # The names redis-benchmark -r uses, so GET reads existing keys.
    pipe_load "${PORT[$label]}" "$load_keys" 100 0 >/dev/null
    freeze "$label"
done

run_one() { # label test pipeline -> ops/s
    local l="$1" t="$2" p="$3" n="$requests"
    [ "$p" -gt 1 ] && n=$((requests * 4))
    resume "$l"
    taskset -c "$CLIENT_CPU" redis-benchmark -p "${PORT[$l]}" -c 50 -d 100 -r 1000000 \
        -n "$n" -P "$p" -t "$t" --csv 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"'
    freeze "$l"
}

declare -A results
for r in $(seq "$rounds"); do
    order=("${labels[@]}")
    if [ $((r % 2)) -eq 0 ]; then
        order=()
        for ((i = ${#labels[@]} - 1; i >= 0; i--)); do order+=("${labels[$i]}"); done
    fi
    for t in $tests; do
        for p in $pipelines; do
            for l in "${order[@]}"; do
                results[$t,$p,$l]+="$(run_one "$l" "$t" "$p") "
            done
        done
    done
    log "round $r of $rounds done"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

header="| test | pipeline |"
rule="|---|---:|"
for l in "${labels[@]}"; do header+=" $l ops/s |"; rule+="---:|"; done
for l in "${labels[@]:1}"; do header+=" $l ÷ ${labels[0]} |"; rule+="---:|"; done
echo "$header"
echo "$rule"
for t in $tests; do
    for p in $pipelines; do
        line="| ${t^^} | $p |"
        declare -A med=()
        for l in "${labels[@]}"; do
            med[$l]="$(echo "${results[$t,$p,$l]}" | median)"
            line+=" $(printf "%'.0f" "${med[$l]}") |"
        done
        for l in "${labels[@]:1}"; do
            line+=" $(awk -v a="${med[$l]}" -v b="${med[${labels[0]}]}" 'BEGIN {printf "%.2f", a / b}') |"
        done
        echo "$line"
    done
done
