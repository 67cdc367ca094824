#!/usr/bin/env bash
# lib.sh: helpers for cluster tests that start real agents (on loopback, or each in a network
# namespace) and drive them with real clients. Source it; call cluster_start N, and
# cluster_stop (also run on exit, even after a failure or a signal). Every wait is bounded.
#
#   KEEP=1      keep the cluster's files (data dirs, logs, histories) and print where
#   BASE_PORT   node I listens on BASE_PORT + I (peers), + 100 + I (RESP), + 200 + I (HTTP);
#               default: random below 32768, checked free
#   NODE_FLAGS  extra flags for every agent (e.g. "--request-timeout-ms 1500")
#   NODE_HOST[i], NODE_NS[i], CLIENT_NS: set by netns_setup for the partition test
set -uo pipefail
BUILD=${BUILD:-build}
SYNOD=${SYNOD:-$BUILD/synod}
CLUSTER_DIR=$(mktemp -d /tmp/synod-cluster-XXXXXX)

ports_free() { # ports_free BASE: can every port of a 9-node cluster at BASE be bound now?
    python3 - "$1" <<'PY'
import socket, sys
base = int(sys.argv[1])
for off in [o + i for o in (0, 100, 200) for i in range(1, 10)]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as libuv does
    try:
        s.bind(("127.0.0.1", base + off))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}

# Ports below the kernel's ephemeral range (32768 and up), so that no outbound connection of
# a client or a peer holds one of them, and checked free of other listeners (other tests).
if [ -z "${BASE_PORT:-}" ]; then
    for _ in $(seq 1 50); do
        BASE_PORT=$((20000 + (RANDOM % 1200) * 10))
        ports_free "$BASE_PORT" && break
    done
fi
NODE_FLAGS=${NODE_FLAGS:-}
CLUSTER_SIZE=0
CLIENT_NS=${CLIENT_NS:-}
WORKLOAD_PID=
TEST_START=$EPOCHREALTIME
declare -a PIDS NODE_HOST NODE_NS ON_EXIT

peer_port() { echo $((BASE_PORT + $1)); }
resp_port() { echo $((BASE_PORT + 100 + $1)); }
http_port() { echo $((BASE_PORT + 200 + $1)); }
node_host() { echo "${NODE_HOST[$1]:-127.0.0.1}"; }

now_ms() { local us=${EPOCHREALTIME/./}; echo $((us / 1000)); }

say() { # say TEXT: a line of the test's log, with the seconds since it started
    local us=$((${EPOCHREALTIME/./} - ${TEST_START/./}))
    printf '[%3d.%02ds] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$*"
}

initial_cluster() {
    local n=$1 list="" i
    for i in $(seq 1 "$n"); do
        list="${list:+$list,}n$i=$(node_host "$i"):$(peer_port "$i")"
    done
    echo "$list"
}

resp_addrs() { # HOST:PORT of every node's RESP port, comma-separated
    local list="" i
    for i in $(seq 1 "$CLUSTER_SIZE"); do
        list="${list:+$list,}$(node_host "$i"):$(resp_port "$i")"
    done
    echo "$list"
}

in_client_ns() { # runs a client command where the clients live (the host, or CLIENT_NS)
    if [ -n "$CLIENT_NS" ]; then
        ip netns exec "$CLIENT_NS" "$@"
    else
        "$@"
    fi
}

node_start() { # node_start I N [extra flags]
    local i=$1 n=$2 host
    shift 2
    host=$(node_host "$i")
    local -a pre=()
    [ -n "${NODE_NS[$i]:-}" ] && pre=(ip netns exec "${NODE_NS[$i]}")
    # shellcheck disable=SC2086 # NODE_FLAGS is a list of words
    "${pre[@]}" "$SYNOD" agent --id "n$i" --data-dir "$CLUSTER_DIR/n$i" \
        --peer-addr "$host:$(peer_port "$i")" --resp-addr "$host:$(resp_port "$i")" \
        --http-addr "$host:$(http_port "$i")" --initial-cluster "$(initial_cluster "$n")" \
        $NODE_FLAGS "$@" >>"$CLUSTER_DIR/n$i.log" 2>&1 &
    PIDS[$i]=$!
}

cluster_start() { # cluster_start N [extra agent flags]
    local i n=$1
    shift
    CLUSTER_SIZE=$n
    for i in $(seq 1 "$n"); do
        node_start "$i" "$n" "$@"
    done
}

node_alive() { [ -n "${PIDS[$1]:-}" ] && kill -0 "${PIDS[$1]}" 2>/dev/null; }

node_kill() { # node_kill I: SIGKILL node I and reap it, so its ports are free
    local pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    PIDS[$1]=
}

cluster_stop() {
    local i f
    trap - EXIT INT TERM
    if [ -n "$WORKLOAD_PID" ]; then
        kill -9 "$WORKLOAD_PID" 2>/dev/null
        wait "$WORKLOAD_PID" 2>/dev/null
    fi
    for i in "${!PIDS[@]}"; do
        node_kill "$i"
    done
    wait 2>/dev/null
    for f in "${ON_EXIT[@]:-}"; do
        [ -n "$f" ] && "$f"
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "cluster files kept in $CLUSTER_DIR"
    else
        rm -rf "$CLUSTER_DIR"
    fi
}
trap cluster_stop EXIT
trap 'exit 130' INT TERM

rcli() { # rcli I ARGS...: redis-cli against node I, 5 s at most
    local i=$1
    shift
    in_client_ns timeout 5 redis-cli -h "$(node_host "$i")" -p "$(resp_port "$i")" "$@"
}

info_field() { # info_field I FIELD: a field of node I's INFO raft, or nothing
    rcli "$1" INFO raft 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

leader_of() { # the node index that node I reports as leader, or nothing
    local name
    name=$(info_field "$1" leader)
    [ -n "$name" ] && echo "${name#n}"
}

role_of() { info_field "$1" role; }

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

find_leader() { # find_leader SECONDS: once exactly one node says it is the leader and every
    # running node names it, prints its index
    local deadline=$(($(now_ms) + $1 * 1000)) i l leaders agree
    while [ "$(now_ms)" -lt $deadline ]; do
        leaders=()
        for i in $(seq 1 "$CLUSTER_SIZE"); do
            node_alive "$i" && [ "$(role_of "$i")" = leader ] && leaders+=("$i")
        done
        if [ ${#leaders[@]} -eq 1 ]; then
            l=${leaders[0]}
            agree=1
            for i in $(seq 1 "$CLUSTER_SIZE"); do
                node_alive "$i" && [ "$(leader_of "$i")" != "$l" ] && agree=0
            done
            if [ $agree = 1 ]; then
                echo "$l"
                return 0
            fi
        fi
        sleep 0.1
    done
    return 1
}

wait_new_leader() { # wait_new_leader OLD SECONDS NODES...: a node of NODES, not OLD, that
    # says it is the leader; prints its index
    local old=$1 deadline=$((SECONDS + $2)) i
    shift 2
    while [ $SECONDS -lt $deadline ]; do
        for i in "$@"; do
            if [ "$i" != "$old" ] && [ "$(role_of "$i")" = leader ]; then
                echo "$i"
                return 0
            fi
        done
        sleep 0.1
    done
    return 1
}

wait_role() { # wait_role I ROLE SECONDS: until node I reports ROLE
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(role_of "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

wait_until() { # wait_until SECONDS CMD...: until CMD succeeds; 1 if it never did
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    while [ "$(now_ms)" -lt $deadline ]; do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

write_refused() { # write_refused I: a SET through node I gets -TIMEOUT or -NOQUORUM
    local out
    out=$(rcli "$1" SET "refused:$1:$RANDOM" x 2>&1)
    case "$out" in TIMEOUT* | NOQUORUM*) return 0 ;; esac
    echo "n$1 answered a SET with: $out" >&2
    return 1
}

read_refused() { # read_refused I: a GET through node I gets -TIMEOUT or -NOQUORUM
    local out
    out=$(rcli "$1" GET "marker" 2>&1)
    case "$out" in TIMEOUT* | NOQUORUM*) return 0 ;; esac
    echo "n$1 answered a GET with: $out" >&2
    return 1
}

reads() { # reads I KEY VALUE: node I reads VALUE at KEY
    [ "$(rcli "$1" GET "$2" 2>/dev/null)" = "$3" ]
}

wait_write() { # wait_write I SECONDS: until a SET through node I is acknowledged
    local deadline=$((SECONDS + $2)) n=0
    while [ $SECONDS -lt $deadline ]; do
        n=$((n + 1))
        [ "$(rcli "$1" SET "probe:$1:$n" x 2>/dev/null)" = OK ] && return 0
        sleep 0.05
    done
    return 1
}

workload_start() { # workload_start ARGS...: the clients in the background (workload.py run)
    local -a pre=()
    [ -n "$CLIENT_NS" ] && pre=(ip netns exec "$CLIENT_NS") # execs: $! is python's pid
    "${pre[@]}" python3 tests/cluster/workload.py run --nodes "$(resp_addrs)" \
        --history "$CLUSTER_DIR/history.txt" --acks "$CLUSTER_DIR/acks.txt" "$@" \
        >"$CLUSTER_DIR/workload.out" 2>&1 &
    WORKLOAD_PID=$!
}

workload_wait() { # waits for the workload, fails the test if it failed; prints its summary
    local rc=0
    wait "$WORKLOAD_PID" || rc=$?
    WORKLOAD_PID=
    cat "$CLUSTER_DIR/workload.out"
    [ $rc -eq 0 ] || fail "the workload failed (exit $rc)"
}

workload_stop() { # stops the workload now (SIGTERM: it writes its files), then workload_wait
    kill -TERM "$WORKLOAD_PID" 2>/dev/null
    workload_wait
}

verify_acks() { # verify_acks [SECONDS]: every acknowledged write on every node, and the
    # register keys' final values on every node appended to the history
    in_client_ns python3 tests/cluster/workload.py verify --nodes "$(resp_addrs)" \
        --acks "$CLUSTER_DIR/acks.txt" --history "$CLUSTER_DIR/history.txt" \
        --timeout "${1:-30}" || fail "acknowledged writes are missing"
}

check_history() { # the recorded history must be linearizable
    "$SYNOD" lincheck "$CLUSTER_DIR/history.txt" ||
        fail "the history is not linearizable (or undecided)"
}

# ---- Network namespaces (partition tests) ----------------------------------------------
# netns_setup N: one namespace per agent (10.77.0.I) and one for the clients (10.77.0.254,
# where the bridge lives), veth pairs between them; node_start and the client helpers then
# use them. Every name carries this shell's pid; everything is deleted on exit. Returns 1 when
# namespaces cannot be made here (no privileges): the caller prints SKIP.
NETNS_PREFIX=
NETNS_SUBNET=10.77.0

netns_cleanup() {
    local ns
    [ -n "$NETNS_PREFIX" ] || return 0
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        case "$ns" in "$NETNS_PREFIX"-*) ip netns delete "$ns" 2>/dev/null ;; esac
    done
}

netns_reap_stale() { # namespaces left by earlier runs that were killed before their cleanup
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        case "$ns" in
            synod-[0-9]*-*)
                pid=${ns#synod-}
                pid=${pid%%-*}
                kill -0 "$pid" 2>/dev/null || ip netns delete "$ns" 2>/dev/null
                ;;
        esac
    done
}

netns_setup() {
    local n=$1 i hub
    NETNS_PREFIX="synod-$$"
    ON_EXIT+=(netns_cleanup)
    netns_reap_stale
    hub="$NETNS_PREFIX-clients"
    ip netns add "$hub" 2>/dev/null || return 1
    ip -n "$hub" link set lo up &&
        ip -n "$hub" link add br0 type bridge &&
        ip -n "$hub" addr add "$NETNS_SUBNET.254/24" dev br0 &&
        ip -n "$hub" link set br0 up || return 1
    for i in $(seq 1 "$n"); do
        NODE_NS[i]="$NETNS_PREFIX-n$i"
        NODE_HOST[i]="$NETNS_SUBNET.$i"
        ip netns add "${NODE_NS[$i]}" &&
            ip -n "$hub" link add "v$i" type veth peer name eth0 netns "${NODE_NS[$i]}" &&
            ip -n "$hub" link set "v$i" master br0 up &&
            ip -n "${NODE_NS[$i]}" addr add "${NODE_HOST[$i]}/24" dev eth0 &&
            ip -n "${NODE_NS[$i]}" link set eth0 up &&
            ip -n "${NODE_NS[$i]}" link set lo up || return 1
    done
    CLIENT_NS=$hub
}

link_cut() { # link_cut I J: drop all traffic between nodes I and J, both ways
    ip -n "${NODE_NS[$1]}" route add blackhole "${NODE_HOST[$2]}/32" || fail "cannot cut n$1-n$2"
    ip -n "${NODE_NS[$2]}" route add blackhole "${NODE_HOST[$1]}/32" || fail "cannot cut n$2-n$1"
}

link_heal() { # link_heal I J
    ip -n "${NODE_NS[$1]}" route del blackhole "${NODE_HOST[$2]}/32" 2>/dev/null
    ip -n "${NODE_NS[$2]}" route del blackhole "${NODE_HOST[$1]}/32" 2>/dev/null
}

partition() { # partition "A B" "C D E": cut every link between the two sides
    local a b
    for a in $1; do
        for b in $2; do
            link_cut "$a" "$b"
        done
    done
}

heal_all() { # removes every blackhole route
    local i j
    for i in $(seq 1 "$CLUSTER_SIZE"); do
        for j in $(seq 1 "$CLUSTER_SIZE"); do
            [ "$i" -lt "$j" ] && link_heal "$i" "$j"
        done
    done
}

fail() {
    local f
    echo "FAIL: $*"
    for f in "$CLUSTER_DIR"/*.log; do
        [ -e "$f" ] || continue
        echo "--- $f (last lines)"
        tail -n 15 "$f"
    done
    echo "(run with KEEP=1 to keep $CLUSTER_DIR)"
    exit 1
}
