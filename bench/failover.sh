#!/usr/bin/env bash
# failover.sh: how long writes stop when the leader dies, and whether a busy cluster holds
# its leader. Three synod agents on loopback, fsync on.
#
# 1. Failover, KILLS times: once every node names the same leader and has caught up, a client
#    (bench/resp_probe.py failover) does one SET every 5 ms on a follower for 1 s, then sends
#    SIGKILL to the leader itself and goes on, each SET with a 100 ms timeout, switching
#    between the two survivors after an error or a timeout, until a SET succeeds. The figure
#    is the time from the SIGKILL to that success. The killed node is restarted from its data
#    dir before the next kill.
# 2. Steady load for SECONDS: one redis-benchmark per node (SET and GET of 128-byte values on
#    10,000 keys, 32 connections each, looping), and the Raft term of every node before,
#    every 2 s during, and after. Any term change under steady load is a spurious election.
#
#   bench/failover.sh [--kills N] [--seconds S] [--long]
#     defaults: 10 kills, 60 s of steady load; --long: 300 s of steady load
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

KILLS=10
STEADY_S=60
while [ $# -gt 0 ]; do
    case "$1" in
    --kills) KILLS=$2 && shift ;;
    --seconds) STEADY_S=$2 && shift ;;
    --long) STEADY_S=300 ;;
    *) echo "usage: bench/failover.sh [--kills N] [--seconds S] [--long]" >&2 && exit 2 ;;
    esac
    shift
done

bench_setup failover $((KILLS * 60 + STEADY_S + 180))
echo "== failover: $KILLS leader kills under light load, then $STEADY_S s of steady full load"
bench_machine
cluster_start
wait_stable_leader 20 >/dev/null || bench_die "no stable leader within 20 s"

# ---- 1. leader kills ------------------------------------------------------------------------
declare -a TIMES
FAILED=0
LIGHT_ERRORS=0
echo
echo "(failed attempts after the kill, by kind: -CODE an error reply, client-timeout no reply"
echo " within 100 ms, refused/io the connection)"
echo
echo "| kill | killed leader (term) | first write OK after | on | new leader (term) | failed attempts |"
echo "|-----:|---------------------:|---------------------:|----|------------------:|-----------------|"
for k in $(seq 1 "$KILLS"); do
    wait_caught_up 60 || bench_die "the cluster did not settle before kill $k"
    sleep 1 # a stable leader: heartbeats flow, no election is in progress
    leader=$(wait_stable_leader 20) || bench_die "no stable leader before kill $k"
    term=$(raft_field "$leader" term)
    survivors=()
    for i in $(seq 1 "$NODE_COUNT"); do
        [ "$i" != "$leader" ] && survivors+=("$i")
    done
    out=$(timeout 60 python3 "$BENCH_PY" failover --kill "${PIDS[$leader]}" \
        --ports "$(resp_port "${survivors[0]}"),$(resp_port "${survivors[1]}")" \
        --interval-ms 5 --timeout-ms 100 --before-ms 1000 --max-ms 30000)
    wait "${PIDS[$leader]}" 2>/dev/null
    PIDS[$leader]=""
    ms=$(echo "$out" | sed -n 's/^failover_ms=\([0-9.]*\).*/\1/p')
    port=$(echo "$out" | sed -n 's/.* port=\([0-9]*\).*/\1/p')
    before_err=$(echo "$out" | sed -n 's/.* before_err=\([0-9]*\).*/\1/p')
    failed=$(echo "$out" | sed -n 's/.* after_failed=\([^ ]*\).*/\1/p')
    LIGHT_ERRORS=$((LIGHT_ERRORS + ${before_err:-0}))
    new=$(wait_stable_leader 20) || new=""
    new_term=$([ -n "$new" ] && raft_field "$new" term)
    if [ -z "$ms" ]; then
        FAILED=$((FAILED + 1))
        ms="none"
    else
        TIMES+=("$ms")
    fi
    on=""
    for i in "${survivors[@]}"; do
        [ "$port" = "$(resp_port "$i")" ] && on="n$i"
    done
    printf '| %4d | %20s | %17s ms | %-2s | %17s | %-15s |\n' "$k" "n$leader ($term)" "$ms" \
        "$on" "${new:+n$new ($new_term)}" "${failed:-?}"
    node_start "$leader"
done
echo
if [ ${#TIMES[@]} -gt 0 ]; then
    med=$(median "${TIMES[@]}")
    max=$(printf '%s\n' "${TIMES[@]}" | sort -g | tail -n 1)
    min=$(printf '%s\n' "${TIMES[@]}" | sort -g | head -n 1)
    met=$(awk -v m="$med" 'BEGIN {print (m <= 300) ? "met" : "NOT met"}')
    echo "failover: ${#TIMES[@]} kills, write stall median $med ms, min $min ms, max $max ms;" \
        "$FAILED without a successful write"
    echo "target: median <= 300 ms: $med ms ($met)"
fi
echo "light-load writes that failed before a kill: $LIGHT_ERRORS"

# ---- 2. steady full load --------------------------------------------------------------------
wait_caught_up 60 || bench_die "the cluster did not settle before the steady run"
sleep 1
leader=$(wait_stable_leader 20) || bench_die "no stable leader before the steady run"
terms() { # the term of every node, space-separated
    local i out=""
    for i in $(seq 1 "$NODE_COUNT"); do
        out="$out $(raft_field "$i" term)"
    done
    echo "${out# }"
}
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }
t_before=$(terms)
declare -a E0 P0 BPIDS
for i in $(seq 1 "$NODE_COUNT"); do
    E0[$i]=$(info_field "$(resp_port "$i")" total_error_replies)
    P0[$i]=$(info_field "$(resp_port "$i")" total_commands_processed)
done
echo
echo "== steady full load for $STEADY_S s: redis-benchmark -t set,get -d 128 -r 10000 -c 32 -l" \
    "on each of n1 n2 n3 (leader n$leader); terms before: $t_before"
for i in $(seq 1 "$NODE_COUNT"); do
    timeout -s INT "$STEADY_S" redis-benchmark -h 127.0.0.1 -p "$(resp_port "$i")" -t set,get \
        -d 128 -r 10000 -c 32 -n 100000 -l -q >"$BENCH_DIR/steady.n$i.out" 2>&1 &
    BPIDS[$i]=$!
done
last=$t_before
end=$((SECONDS + STEADY_S))
while [ $SECONDS -lt "$end" ]; do
    sleep 2
    now=$(terms)
    if [ "$now" != "$last" ]; then
        echo "  at $((STEADY_S - (end - SECONDS))) s: terms $last -> $now"
        last=$now
    fi
done
for i in $(seq 1 "$NODE_COUNT"); do
    wait "${BPIDS[$i]}"
done
t_after=$(terms)
# shellcheck disable=SC2086
elections=$(($(max_of $t_after) - $(max_of $t_before)))
errors=0 processed=0
for i in $(seq 1 "$NODE_COUNT"); do
    e1=$(info_field "$(resp_port "$i")" total_error_replies)
    p1=$(info_field "$(resp_port "$i")" total_commands_processed)
    errors=$((errors + ${e1:-0} - ${E0[$i]:-0}))
    processed=$((processed + ${p1:-0} - ${P0[$i]:-0}))
    if grep -q -i error "$BENCH_DIR/steady.n$i.out"; then
        errors=$((errors + 1))
        echo "  redis-benchmark on n$i: $(tr '\r' '\n' <"$BENCH_DIR/steady.n$i.out" | grep -i error | head -n 1)"
    fi
done
now_leader=$(raft_field 1 leader)
echo "steady load: $processed requests in $STEADY_S s ($((processed / STEADY_S)) req/s over the" \
    "three nodes), $errors errors; terms after: $t_after; leader n$leader -> $now_leader"
echo "target: spurious elections under steady load = 0: $elections ($([ "$elections" = 0 ] &&
    echo met || echo NOT met))"
[ "$FAILED" = 0 ] && [ "$errors" = 0 ] && [ "$LIGHT_ERRORS" = 0 ]
