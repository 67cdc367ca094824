#!/usr/bin/env bash
# kill9_load.sh: five agents under concurrent load (register clients and writers of unique
# keys) for ~10 s while random nodes, the leader first, are killed with SIGKILL (never more
# than two, a minority, at once) and restarted from their disks. Then every acknowledged
# write is present on every node, and the recorded history, with the final reads of every
# node, is linearizable. SEED=N replays the same schedule of kills.
cd "$(dirname "$0")/../.." || exit 2
. tests/cluster/lib.sh

N=5
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
NODE_FLAGS="--request-timeout-ms 1500 --snapshot-entries 1000 --snapshot-trailing 200"
echo "kill9_load: seed $SEED (SEED=$SEED bash $0 replays the schedule)"

cluster_start $N
leader=$(find_leader 15) || fail "no leader within 15 s"
say "leader: n$leader"

workload_start --duration 10 --clients 8 --keys 4 --ack-writers 2 --seed "$SEED"
sleep 1

declare -A down=()
kills=0
restarts=0
victim=$leader
end=$((SECONDS + 9))
while [ $SECONDS -lt $end ]; do
    if [ ${#down[@]} -lt 2 ] && { [ ${#down[@]} -eq 0 ] || [ $((RANDOM % 2)) -eq 0 ]; }; then
        if [ -z "$victim" ]; then
            up=()
            for i in $(seq 1 $N); do [ -z "${down[$i]:-}" ] && up+=("$i"); done
            victim=${up[$((RANDOM % ${#up[@]}))]}
        fi
        node_kill "$victim"
        down[$victim]=1
        kills=$((kills + 1))
        say "kill -9 n$victim (down: ${!down[*]})"
        if [ "$victim" = "$leader" ] && [ $kills = 1 ]; then
            up=()
            for i in $(seq 1 $N); do [ -z "${down[$i]:-}" ] && up+=("$i"); done
            new=$(wait_new_leader "$leader" 10 "${up[@]}") ||
                fail "no new leader within 10 s of killing the leader n$leader"
            wait_write "$new" 10 || fail "the new leader n$new took no write"
            say "n$new leads and takes writes"
        fi
        victim=
    else
        list=("${!down[@]}")
        back=${list[$((RANDOM % ${#list[@]}))]}
        node_start "$back" $N
        unset "down[$back]"
        restarts=$((restarts + 1))
        say "restart n$back (down: ${!down[*]})"
    fi
    sleep "0.$((4 + RANDOM % 6))"
done
for i in "${!down[@]}"; do
    node_start "$i" $N
    restarts=$((restarts + 1))
    say "restart n$i"
done

workload_wait
say "load over: $kills kills, $restarts restarts"

leader=$(find_leader 20) || fail "no leader that every node follows after the restarts"
wait_write "$leader" 15 || fail "no write through n$leader after the restarts"
say "leader n$leader takes writes"
verify_acks 60
say "every acknowledged write is on every node"
check_history
grep -q '"acked": [1-9][0-9][0-9]' "$CLUSTER_DIR/workload.out" ||
    fail "fewer than 100 writes were acknowledged"
echo "kill9_load: ok"
