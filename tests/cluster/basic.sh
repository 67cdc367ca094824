#!/usr/bin/env bash
# basic.sh: three real agents on loopback: a leader is elected, a write on any node is read
# on every node, the leader killed with SIGKILL is replaced and the survivors serve writes,
# and the killed node restarts from its disk and catches up.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cluster_start 3
leader=$(wait_leader 1 15) || fail "no leader within 15 s"
echo "leader: n$leader"

for i in 1 2 3; do
    [ "$(rcli "$i" SET "key$i" "value$i")" = OK ] || fail "SET on n$i"
done
for i in 1 2 3; do
    for k in 1 2 3; do
        got=$(rcli "$i" GET "key$k")
        [ "$got" = "value$k" ] || fail "GET key$k on n$i: '$got'"
    done
done
echo "writes on every node are read on every node"

node_kill "$leader"
start=$SECONDS
survivor=$((leader % 3 + 1))
ok=0
while [ $((SECONDS - start)) -lt 15 ]; do
    if [ "$(rcli "$survivor" SET after-kill yes 2>/dev/null)" = OK ]; then
        ok=1
        break
    fi
    sleep 0.05
done
[ "$ok" = 1 ] || fail "no write succeeded on n$survivor within 15 s of killing n$leader"
echo "after killing n$leader, n$survivor took a write within $((SECONDS - start)) s"

node_start "$leader" 3
deadline=$((SECONDS + 15))
until [ "$(rcli "$leader" GET after-kill 2>/dev/null)" = yes ]; do
    [ $SECONDS -lt $deadline ] || fail "restarted n$leader did not catch up"
    sleep 0.1
done
[ "$(rcli "$leader" GET key1)" = value1 ] || fail "restarted n$leader lost key1"
echo "restarted n$leader recovered and caught up"
echo "basic: ok"
