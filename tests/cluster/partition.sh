#!/usr/bin/env bash
# partition.sh: five agents, each in its own network namespace, joined by veth pairs to a
# bridge in a sixth namespace where the clients run. Links between agents are cut with
# blackhole routes (the clients keep reaching every agent) while the load runs:
#   1. minority/majority: two followers are cut off from the other three. The minority can
#      neither write nor read (-TIMEOUT/-NOQUORUM, never a stale value); the majority keeps
#      serving. Healed, the minority catches up.
#   2. isolated leader: the leader is cut off from everyone. It steps down (check-quorum), the
#      other four elect a new leader that takes writes; writes through the old one are
#      refused. Healed, it follows the new leader and catches up.
# Then every acknowledged write is on every node and the history is linearizable. Needs root
# (ip netns); without it the test prints SKIP and passes.
cd "$(dirname "$0")/../.." || exit 2
. tests/cluster/lib.sh

N=5
if ! netns_setup $N; then
    echo "SKIP: partition.sh: cannot create network namespaces here (needs root and ip netns)"
    exit 0
fi
NODE_FLAGS="--request-timeout-ms 1500"
cluster_start $N
leader=$(find_leader 15) || fail "no leader within 15 s"
say "namespaces up; leader: n$leader"
workload_start --duration 120 --clients 8 --keys 4 --ack-writers 2 --op-timeout 4
sleep 1

not_leader() { [ "$(role_of "$1")" != leader ]; }
follows() { [ "$(role_of "$1")" = follower ] && [ "$(leader_of "$1")" = "$2" ]; }

# ---- 1. Two followers against the other three ----------------------------------------------
minority=()
majority=()
for i in $(seq 1 $N); do
    if [ "$i" != "$leader" ] && [ ${#minority[@]} -lt 2 ]; then
        minority+=("$i")
    else
        majority+=("$i")
    fi
done
partition "${minority[*]}" "${majority[*]}"
say "cut {${minority[*]}} from {${majority[*]}}"
for i in "${minority[@]}"; do
    wait_until 10 write_refused "$i" || fail "n$i, in the minority, did not refuse a write"
    wait_until 10 read_refused "$i" || fail "n$i, in the minority, did not refuse a read"
done
say "the minority refuses writes and reads"
wait_write "$leader" 10 || fail "the majority's leader n$leader took no write"
[ "$(rcli "${majority[1]}" SET marker1 during-split)" = OK ] ||
    fail "no write through n${majority[1]} in the majority"
say "the majority takes writes"
sleep 1
heal_all
say "healed"
for i in "${minority[@]}"; do
    wait_until 30 reads "$i" marker1 during-split ||
        fail "n$i did not catch up within 30 s of healing"
done
say "the minority caught up"

# ---- 2. The leader alone ---------------------------------------------------------------
leader=$(find_leader 15) || fail "no leader that every node follows after healing"
others=()
for i in $(seq 1 $N); do [ "$i" != "$leader" ] && others+=("$i"); done
partition "$leader" "${others[*]}"
say "isolated the leader n$leader"
new=$(wait_new_leader "$leader" 15 "${others[@]}") ||
    fail "no new leader among {${others[*]}} within 15 s"
say "new leader: n$new"
wait_until 10 not_leader "$leader" || fail "the isolated n$leader did not step down within 10 s"
say "n$leader stepped down (role: $(role_of "$leader"))"
wait_until 10 write_refused "$leader" || fail "the isolated n$leader did not refuse a write"
[ "$(rcli "$new" SET marker2 during-isolation)" = OK ] ||
    fail "no write through the new leader n$new"
say "the new leader takes writes; the old one refuses them"
sleep 1
heal_all
say "healed"
wait_until 30 follows "$leader" "$new" ||
    fail "n$leader does not follow n$new within 30 s of healing"
wait_until 30 reads "$leader" marker2 during-isolation || fail "n$leader did not catch up"
say "n$leader follows n$new and caught up"

sleep 1
workload_stop
verify_acks 60
check_history
echo "partition: ok"
