#!/usr/bin/env bash
# snapshot.sh: with small snapshot thresholds, a follower that was down while the others
# wrote and compacted their logs comes back, receives the leader's snapshot in chunks,
# installs it, and ends with the same data.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

flags=(--snapshot-entries 20 --snapshot-trailing 5)
cluster_start 3 "${flags[@]}"
leader=$(wait_leader 1 15) || fail "no leader"
down=$((leader % 3 + 1))
kill -9 "${PIDS[$down]}"
wait "${PIDS[$down]}" 2>/dev/null
for i in $(seq 1 40); do
    args=()
    for j in $(seq 1 50); do args+=("k$i-$j" "v$i-$j"); done
    [ "$(rcli "$leader" MSET "${args[@]}")" = OK ] || fail "MSET $i"
    rcli "$leader" INCR counter >/dev/null || fail "INCR $i"
done
deadline=$((SECONDS + 10))
until grep -q "log compacted" "$CLUSTER_DIR/n$leader.log"; do
    [ $SECONDS -lt $deadline ] || fail "the leader never compacted its log"
    sleep 0.1
done
node_start "$down" 3 "${flags[@]}"
deadline=$((SECONDS + 20))
until [ "$(rcli "$down" GET counter 2>/dev/null)" = 40 ]; do
    [ $SECONDS -lt $deadline ] || fail "n$down did not catch up"
    sleep 0.1
done
grep -q "installed the leader's snapshot" "$CLUSTER_DIR/n$down.log" || fail "n$down caught up without a snapshot"
[ "$(rcli "$down" DBSIZE)" = "$(rcli "$leader" DBSIZE)" ] || fail "DBSIZE differs"
[ "$(rcli "$down" GET k17-33)" = v17-33 ] || fail "k17-33 missing on n$down"
echo "snapshot: ok (n$down installed the leader's snapshot and caught up)"
