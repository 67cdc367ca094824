#!/usr/bin/env bash
# restart_tags.sh: a node restarted while an entry it proposed in its previous life is still
# to be applied must not answer a new request with that entry's result (request tags never
# repeat across restarts). The leader's link to the victim is cut one way, so the victim's
# forwarded write commits without the victim applying it; then the victim restarts and
# sends an INCR, and the old SET is applied first.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh
netns_setup 3 || { echo "SKIP: network namespaces unavailable"; exit 0; }
NODE_FLAGS="--request-timeout-ms 3000"
cluster_start 3
L=$(find_leader 15) || fail "no leader"
X=$((L % 3 + 1))
ip -n "${NODE_NS[$L]}" route add blackhole "${NODE_HOST[$X]}/32"
rcli "$X" SET k1 v1 >/dev/null 2>&1
[ "$(rcli "$L" GET k1)" = v1 ] || fail "the cut-off node's write did not commit"
node_kill "$X"
node_start "$X" 3
# until it serves (a restart takes longer on a loaded machine than a fixed sleep allows)
serves() { [ "$(rcli "$X" PING 2>/dev/null)" = PONG ]; }
wait_until 15 serves || fail "the restarted node does not answer PING"
out_file="$CLUSTER_DIR/incr.out"
(rcli "$X" INCR counter >"$out_file" 2>&1) &
incr=$!
sleep 0.5
ip -n "${NODE_NS[$L]}" route del blackhole "${NODE_HOST[$X]}/32"
wait "$incr"
out=$(cat "$out_file")
[ "$out" = 1 ] || fail "INCR through the restarted node answered '$out', expected 1"
[ "$(rcli "$L" GET counter)" = 1 ] || fail "counter is not 1 on the leader"
echo "restart_tags: ok (the restarted node answered its own request)"
