#!/usr/bin/env bash
# membership.sh: under a steady write load, a fourth node joins as a learner, catches up
# (by snapshot: the logs were compacted meanwhile), is promoted to voter, and then a voter
# (the leader itself) is removed; the cluster keeps serving and the data is whole.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

flags=(--snapshot-entries 50 --snapshot-trailing 10)
cluster_start 3 "${flags[@]}"
leader=$(wait_leader 1 15) || fail "no leader"

load() { # a background writer: counter increments on a follower, until told to stop
    # Only an integer reply is an acknowledgement (-TIMEOUT may or may not have applied).
    local i=0 tries=0 out
    while [ ! -e "$CLUSTER_DIR/stop-load" ] && [ $tries -lt 4000 ]; do
        tries=$((tries + 1))
        out=$(rcli "$1" INCR counter 2>/dev/null)
        [[ "$out" =~ ^[0-9]+$ ]] && i=$((i + 1))
    done
    echo "$i" >"$CLUSTER_DIR/load-$1"
}
load "$(( (leader % 3) + 1 ))" &
loader=$!
for i in $(seq 1 120); do rcli "$leader" SET "pre-$i" "$i" >/dev/null || fail "SET pre-$i"; done

synod_cmd() { # synod_cmd ARGS...: sent to the leader, following -NOTLEADER once
    local out l
    l=$(wait_leader 1 10) || return 1
    out=$(rcli "$l" SYNOD "$@")
    if [[ "$out" == NOTLEADER* ]]; then
        l=$(wait_leader 1 10) || return 1
        out=$(rcli "$l" SYNOD "$@")
    fi
    echo "$out"
}

# n4 starts outside the cluster and is added as a learner.
"$SYNOD" agent --id n4 --data-dir "$CLUSTER_DIR/n4" --peer-addr "127.0.0.1:$(peer_port 4)" \
    --resp-addr "127.0.0.1:$(resp_port 4)" --http-addr "127.0.0.1:$(http_port 4)" \
    --initial-cluster "$(initial_cluster 3)" --join "${flags[@]}" >>"$CLUSTER_DIR/n4.log" 2>&1 &
PIDS[4]=$!
out=$(synod_cmd ADD-LEARNER n4 "127.0.0.1:$(peer_port 4)")
[[ "$out" == OK* ]] || fail "ADD-LEARNER: $out"
deadline=$((SECONDS + 20))
until [ "$(rcli 4 GET pre-120 2>/dev/null)" = 120 ]; do
    [ $SECONDS -lt $deadline ] || fail "the learner did not catch up"
    sleep 0.1
done
echo "n4 caught up as a learner"
deadline=$((SECONDS + 10))
until out=$(synod_cmd PROMOTE n4) && [[ "$out" == OK* ]]; do
    [ $SECONDS -lt $deadline ] || fail "PROMOTE: $out"
    sleep 0.2
done
echo "n4 promoted"

leader=$(wait_leader 1 10) || fail "no leader after the promotion"
deadline=$((SECONDS + 10))
until out=$(synod_cmd REMOVE "n$leader") && [[ "$out" == OK* ]]; do
    [ $SECONDS -lt $deadline ] || fail "REMOVE n$leader: $out"
    sleep 0.2
done
echo "n$leader (the leader) removed"
survivor=4
deadline=$((SECONDS + 15))
until [ "$(rcli "$survivor" SET after-removal yes 2>/dev/null)" = OK ]; do
    [ $SECONDS -lt $deadline ] || fail "no write after removing n$leader"
    sleep 0.1
done
new_leader=$(wait_leader "$survivor" 10) || fail "no leader after the removal"
[ "$new_leader" != "$leader" ] || fail "the removed node still leads"
members=$(rcli "$survivor" INFO raft | tr -d '\r' | sed -n 's/^members://p')
[ "$members" = 3 ] || fail "expected 3 members after the removal, INFO says $members"

touch "$CLUSTER_DIR/stop-load"
wait "$loader"
acked=$(cat "$CLUSTER_DIR/load-$(( (leader % 3) + 1 ))" 2>/dev/null || echo 0)
got=$(rcli "$survivor" GET counter)
[ "${got:-0}" -ge "$acked" ] || fail "counter $got < $acked acknowledged increments"
echo "membership: ok ($acked acknowledged increments under load, counter $got)"
