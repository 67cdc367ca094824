#!/usr/bin/env bash
# local-cluster.sh: runs a 3-node synod cluster on this machine until Ctrl-C, then stops it
# cleanly. Data goes under $SYNOD_DIR (default /var/tmp/synod-local-cluster, kept between
# runs: the cluster recovers from it). Usage: tools/local-cluster.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
synod=${1:-build}/synod
dir=${SYNOD_DIR:-/var/tmp/synod-local-cluster}
mkdir -p "$dir"
cluster="n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003"
pids=()
for i in 1 2 3; do
    "$synod" agent --id "n$i" --data-dir "$dir/n$i" --peer-addr "127.0.0.1:700$i" \
        --resp-addr "127.0.0.1:600$i" --http-addr "127.0.0.1:850$i" \
        --initial-cluster "$cluster" >>"$dir/n$i.log" 2>&1 &
    pids+=($!)
done
stop() {
    echo
    echo "stopping the cluster..."
    kill -TERM "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    echo "stopped; data and logs kept in $dir"
    exit 0
}
trap stop INT TERM
leader=""
for _ in $(seq 1 100); do
    leader=$(redis-cli -p 6001 INFO raft 2>/dev/null | tr -d '\r' | sed -n 's/^leader://p')
    [ -n "$leader" ] && break
    sleep 0.1
done
if [ -z "$leader" ]; then
    echo "no leader after 10 s; see the logs in $dir"
    stop
fi
cat <<MSG
synod: a 3-node cluster is running (leader: $leader); data and logs in $dir

  nodes        n1, n2, n3   peers on 127.0.0.1:7001-7003
  Redis API    redis-cli -p 6001   (6002, 6003: any node takes any request)
  try          redis-cli -p 6002 SET greeting hello; redis-cli -p 6003 GET greeting
               redis-cli -p 6001 INFO raft
  break it     kill -9 the leader's process (pids: ${pids[*]}) and watch another take over

Ctrl-C stops the cluster.
MSG
wait
