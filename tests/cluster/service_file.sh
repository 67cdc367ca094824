#!/usr/bin/env bash
# service_file.sh: service definitions given at agent start (--service-file) are registered
# once a leader is known and their checks run; a malformed file stops the agent with the
# reason instead of starting half-configured.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cat >"$CLUSTER_DIR/web.json" <<JSON
{"Name": "web", "ID": "web-file", "Port": 8080, "Tags": ["from-file"],
 "Check": {"TTL": "600s", "Status": "passing"}}
JSON
echo '{"Name": "bad", "Check": {"TTL": "soon"}}' >"$CLUSTER_DIR/bad.json"
if "$SYNOD" agent --id x1 --data-dir "$CLUSTER_DIR/x1" --peer-addr 127.0.0.1:1 \
    --resp-addr 127.0.0.1:1 --http-addr 127.0.0.1:1 --initial-cluster x1=127.0.0.1:1 \
    --service-file "$CLUSTER_DIR/bad.json" >"$CLUSTER_DIR/bad.log" 2>&1; then
    fail "an agent with a malformed --service-file started"
fi
grep -q "bad.json: TTL is not a duration" "$CLUSTER_DIR/bad.log" || fail "no reason given: $(cat "$CLUSTER_DIR/bad.log")"

cluster_start 3
node_kill 2
node_start 2 3 --service-file "$CLUSTER_DIR/web.json"
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
deadline=$((SECONDS + 10))
until curl -s --max-time 5 "http://127.0.0.1:$(http_port 3)/v1/health/service/web?passing" |
    grep -q '"Node":"n2".*"ID":"web-file"'; do
    [ $SECONDS -lt $deadline ] || fail "web-file from --service-file is not registered on n2"
    sleep 0.1
done
cluster_stop
echo "PASS service_file"
