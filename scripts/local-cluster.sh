#!/usr/bin/env bash
# A Basalt cluster on this machine, to try things out: N basalt-server nodes
# in cluster mode, a basalt-controller, and the cluster "c1" created with
# basalt-ctl (the README's "A 3-node cluster", in one command).
#
#   scripts/local-cluster.sh start     # build, start, create; prints the cluster
#   scripts/local-cluster.sh stop      # stop every process it started, remove its data
#
# Settings (environment):
#   NODES=3              number of nodes (ports BASE_PORT, BASE_PORT+1, ...)
#   REPLICAS=0           replicas per master (NODES must be a multiple of 1+REPLICAS)
#   BASE_PORT=7001       first node port
#   PORTS="7001 7002"    explicit node ports instead of NODES/BASE_PORT
#   CONTROLLER_PORT=9379 the controller's HTTP port
#   CLUSTER_DIR=./local-cluster   data, logs and pid files
#   BASALT_BIN_DIR=...   use the binaries there instead of building them
#                        (default: cargo build --release into $CARGO_TARGET_DIR or target/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nodes="${NODES:-3}"
replicas="${REPLICAS:-0}"
base_port="${BASE_PORT:-7001}"
controller_port="${CONTROLLER_PORT:-9379}"
dir="${CLUSTER_DIR:-./local-cluster}"
if [ -n "${PORTS:-}" ]; then
    read -r -a ports <<<"$PORTS"
else
    ports=()
    for ((i = 0; i < nodes; i++)); do ports+=($((base_port + i))); done
fi

# Waits (up to 60 s) until something accepts connections on the port.
wait_port() {
    local port="$1" what="$2"
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "local-cluster: $what did not listen on port $port within 60 s; see $dir/*.log" >&2
    exit 1
}

stop() {
    # Only a directory this script made (it has the pid file) is removed.
    if [ ! -f "$dir/pids" ]; then
        echo "local-cluster: nothing started in $dir" >&2
        return 0
    fi
    while read -r pid; do
        kill "$pid" 2>/dev/null || true
    done <"$dir/pids"
    # Wait for them to exit, so their ports are free when this returns.
    while read -r pid; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done <"$dir/pids"
    rm -rf "$dir"
}

start() {
    if [ -f "$dir/pids" ]; then
        echo "local-cluster: already started in $dir (run '$0 stop' first)" >&2
        exit 1
    fi
    local bin="${BASALT_BIN_DIR:-}"
    if [ -z "$bin" ]; then
        (cd "$root" && cargo build --release -p basalt-server -p basalt-controller)
        bin="${CARGO_TARGET_DIR:-$root/target}/release"
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local addrs=()
    for port in "${ports[@]}"; do
        "$bin/basalt-server" --bind 127.0.0.1 --port "$port" --dir "$dir/node-$port" \
            --cluster-enabled yes >"$dir/node-$port.log" 2>&1 &
        echo $! >>"$dir/pids"
        addrs+=("127.0.0.1:$port")
    done
    "$bin/basalt-controller" --addr "127.0.0.1:$controller_port" --dir "$dir/controller" \
        >"$dir/controller.log" 2>&1 &
    echo $! >>"$dir/pids"
    for port in "${ports[@]}"; do wait_port "$port" "basalt-server"; done
    wait_port "$controller_port" "basalt-controller"

    local joined
    joined="$(IFS=,; echo "${addrs[*]}")"
    export BASALT_CONTROLLER="http://127.0.0.1:$controller_port"
    "$bin/basalt-ctl" cluster create c1 --nodes "$joined" --replicas "$replicas"
    echo
    echo "controller: $BASALT_CONTROLLER (export BASALT_CONTROLLER=$BASALT_CONTROLLER for basalt-ctl)"
    echo "try:        redis-cli -c -p ${ports[0]} set foo bar"
    echo "stop with:  CLUSTER_DIR=$dir $0 stop"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
