#!/usr/bin/env bash
# bootstrap.sh: the bootstrap configuration is kept in the data directory: an agent restarted
# with a different --initial-cluster (here only itself) neither elects itself nor forgets its
# peers, and the cluster goes on as before once the others are back.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
[ "$(rcli 1 SET before yes)" = OK ] || fail "SET"
grep -q "^n1@" "$CLUSTER_DIR/n1/cluster" || fail "no bootstrap configuration in n1's data dir"
for i in 1 2 3; do node_kill "$i"; done

# n1 alone, told it is a cluster of one: it must keep the three-node configuration.
"$SYNOD" agent --id n1 --data-dir "$CLUSTER_DIR/n1" --peer-addr "127.0.0.1:$(peer_port 1)" \
    --resp-addr "127.0.0.1:$(resp_port 1)" --http-addr "127.0.0.1:$(http_port 1)" \
    --initial-cluster "n1=127.0.0.1:$(peer_port 1)" >>"$CLUSTER_DIR/n1.log" 2>&1 &
PIDS[1]=$!
sleep 2
[ "$(role_of 1)" != leader ] || fail "n1 alone elected itself from a one-node --initial-cluster"
grep -q "initial-cluster differs" "$CLUSTER_DIR/n1.log" || fail "no warning about the flag"
echo "n1 restarted with a one-node --initial-cluster stays a follower and warns"

node_start 2 3
node_start 3 3
wait_leader 1 15 >/dev/null || fail "no leader once n2 and n3 are back"
deadline=$((SECONDS + 10))
until [ "$(rcli 1 GET before 2>/dev/null)" = yes ]; do
    [ $SECONDS -lt $deadline ] || fail "the data written before is not read back"
    sleep 0.1
done
deadline=$((SECONDS + 10)) # n3 may still be starting: the others needed only each other
until [ "$(rcli 3 SET after yes 2>/dev/null)" = OK ]; do
    [ $SECONDS -lt $deadline ] || fail "SET after, through n3"
    sleep 0.1
done
cluster_stop
echo "PASS bootstrap"
