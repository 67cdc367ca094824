#!/usr/bin/env bash
# lib.sh: helpers for cluster tests that start real agents on loopback. Source it; call
# cluster_start N, and cluster_stop (also run on exit). Every wait is bounded.
set -uo pipefail
BUILD=${BUILD:-build}
SYNOD=${SYNOD:-$BUILD/synod}
CLUSTER_DIR=$(mktemp -d /tmp/synod-cluster-XXXXXX)
BASE_PORT=${BASE_PORT:-$((20000 + (RANDOM % 2000) * 10))}
declare -a PIDS

peer_port() { echo $((BASE_PORT + $1)); }
resp_port() { echo $((BASE_PORT + 100 + $1)); }
http_port() { echo $((BASE_PORT + 200 + $1)); }

initial_cluster() {
    local n=$1 list="" i
    for i in $(seq 1 "$n"); do
        list="${list:+$list,}n$i=127.0.0.1:$(peer_port "$i")"
    done
    echo "$list"
}

node_start() { # node_start I N [extra flags]
    local i=$1 n=$2
    shift 2
    "$SYNOD" agent --id "n$i" --data-dir "$CLUSTER_DIR/n$i" \
        --peer-addr "127.0.0.1:$(peer_port "$i")" --resp-addr "127.0.0.1:$(resp_port "$i")" \
        --http-addr "127.0.0.1:$(http_port "$i")" --initial-cluster "$(initial_cluster "$n")" \
        "$@" >>"$CLUSTER_DIR/n$i.log" 2>&1 &
    PIDS[$i]=$!
}

cluster_start() { # cluster_start N [extra agent flags]
    local i n=$1
    shift
    for i in $(seq 1 "$n"); do
        node_start "$i" "$n" "$@"
    done
}

cluster_stop() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then
        echo "cluster files kept in $CLUSTER_DIR"
    else
        rm -rf "$CLUSTER_DIR"
    fi
}
trap cluster_stop EXIT

rcli() { # rcli I ARGS...: redis-cli against node I, 5 s at most
    local i=$1
    shift
    timeout 5 redis-cli -h 127.0.0.1 -p "$(resp_port "$i")" "$@"
}

leader_of() { # the node index that node I reports as leader, or nothing
    local i=$1 name
    name=$(rcli "$i" INFO raft 2>/dev/null | tr -d '\r' | sed -n 's/^leader://p')
    [ -n "$name" ] && echo "${name#n}"
}

wait_leader() { # wait_leader I [SECONDS]: prints the leader's index once node I knows one
    local i=$1 deadline=$((SECONDS + ${2:-10})) l
    while [ $SECONDS -lt $deadline ]; do
        l=$(leader_of "$i")
        if [ -n "$l" ]; then
            echo "$l"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

fail() {
    echo "FAIL: $*"
    for f in "$CLUSTER_DIR"/*.log; do
        echo "--- $f (last lines)"
        tail -n 15 "$f"
    done
    exit 1
}
