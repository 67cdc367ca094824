#!/usr/bin/env bash
# pause.sh: three agents under load; the leader is frozen with SIGSTOP for well over an
# election timeout. The other two elect a new leader, which takes writes while the old one
# is frozen. After SIGCONT the old leader finds the newer term and steps down (and whatever
# it had been asked while frozen is answered safely: clients pinned to it still wait on their
# connections when it wakes). No acknowledged write is lost, and the history, with the
# final reads of every node, is linearizable.
cd "$(dirname "$0")/../.." || exit 2
. tests/cluster/lib.sh

N=3
NODE_FLAGS="--request-timeout-ms 1500"
cluster_start $N
old=$(wait_leader 1 15) || fail "no leader within 15 s"
old_term=$(info_field "$old" term)
say "leader: n$old in term $old_term"

# The clients wait up to 6 s for a reply: longer than the pause, so that the frozen
# leader's clients are still connected when it wakes.
workload_start --duration 60 --clients 6 --keys 3 --ack-writers 2 --op-timeout 6
sleep 1.5

kill -STOP "${PIDS[$old]}"
stopped_at=$(now_ms)
say "SIGSTOP n$old"
others=()
for i in $(seq 1 $N); do [ "$i" != "$old" ] && others+=("$i"); done
new=$(wait_new_leader "$old" 10 "${others[@]}") ||
    fail "no new leader within 10 s of freezing n$old"
say "new leader: n$new in term $(info_field "$new" term)"
wait_write "$new" 10 || fail "the new leader n$new took no write while n$old was frozen"
say "n$new takes writes while n$old is frozen"
# Frozen for 2.5 s in all: the election timeout is 150-300 ms.
while [ $(($(now_ms) - stopped_at)) -lt 2500 ]; do sleep 0.05; done

kill -CONT "${PIDS[$old]}"
say "SIGCONT n$old"
follows() { [ "$(role_of "$1")" = follower ] && [ "$(leader_of "$1")" = "$2" ]; }
wait_until 10 follows "$old" "$new" ||
    fail "n$old is not a follower of n$new 10 s after waking" \
        "(role: $(role_of "$old"), leader: n$(leader_of "$old"))"
term=$(info_field "$old" term)
[ "$term" -gt "$old_term" ] || fail "n$old is still in term $term"
say "n$old stepped down: follower of n$new in term $term"

sleep 2 # load on the healed cluster
workload_stop
grep -q '"acked": [1-9][0-9]' "$CLUSTER_DIR/workload.out" || fail "too few writes were acknowledged"
verify_acks 30
check_history
echo "pause: ok"
