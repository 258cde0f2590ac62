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
tests="${COMPARE_TESTS:-get set incr lpush lpop hset zadd}"
pipelines="${COMPARE_PIPELINES:-1 16}"
requests="${COMPARE_REQUESTS:-100000}"
rounds="${COMPARE_ROUNDS:-3}"
load_keys="${COMPARE_LOAD_KEYS:-1000000}"
server_cpu="${COMPARE_SERVER_CPU:-0}"
client_cpu="${COMPARE_CLIENT_CPU:-1}"

work="$(mktemp -d /tmp/basalt-compare.XXXXXX)"
labels=()
declare -A pid port
cleanup() {
    for l in "${labels[@]}"; do
        if [ -n "${pid[$l]:-}" ]; then
            kill -CONT -- "-${pid[$l]}" 2>/dev/null || true
            kill -TERM -- "-${pid[$l]}" 2>/dev/null || true
        fi
    done
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

next_port=17660
for spec in "$@"; do
    label="${spec%%=*}"
    bin="${spec#*=}"
    [ -x "$bin" ] || { echo "compare: $bin is not executable" >&2; exit 1; }
    labels+=("$label")
    port[$label]=$next_port
    next_port=$((next_port + 1))
    mkdir -p "$work/$label"
    setsid taskset -c "$server_cpu" "$bin" --bind 127.0.0.1 --port "${port[$label]}" \
        --dir "$work/$label" --appendfsync everysec >"$work/$label.log" 2>&1 &
    pid[$label]=$!
    for _ in $(seq 100); do
        redis-cli -p "${port[$label]}" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    # The names redis-benchmark -r uses, so GET reads existing keys.
    python3 -c "
import sys
out = sys.stdout.buffer
v = b'x' * 100
for i in range($load_keys):
    k = b'key:%012d' % i
    out.write(b'*3\r\n\$3\r\nSET\r\n\$%d\r\n%s\r\n\$100\r\n%s\r\n' % (len(k), k, v))
" | taskset -c "$client_cpu" redis-cli -p "${port[$label]}" --pipe >/dev/null
    kill -STOP -- "-${pid[$label]}"
done

run_one() { # label test pipeline -> ops/s
    local l="$1" t="$2" p="$3" n="$requests"
    [ "$p" -gt 1 ] && n=$((requests * 4))
    kill -CONT -- "-${pid[$l]}"
    taskset -c "$client_cpu" redis-benchmark -p "${port[$l]}" -c 50 -d 100 -r 1000000 \
        -n "$n" -P "$p" -t "$t" --csv 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"'
    kill -STOP -- "-${pid[$l]}"
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
    echo "compare: round $r of $rounds done" >&2
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
