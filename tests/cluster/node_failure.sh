#!/usr/bin/env bash
# node_failure.sh: a node killed with SIGKILL is marked failed in the registry by the
# leader's failure detector; its instances turn critical and leave discovery (HTTP ?passing
# and DNS); once it is back and its checks pass, they return.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cluster_start 3
leader=$(wait_leader 1 15) || fail "no leader within 15 s"
victim=$((leader % 3 + 1))
other=$((victim % 3 + 1))
[ "$other" = "$leader" ] && other=$((other % 3 + 1))
hv="http://127.0.0.1:$(http_port "$victim")"
ho="http://127.0.0.1:$(http_port "$other")"
backend_port=$((BASE_PORT + 91))
python3 -m http.server "$backend_port" --bind 127.0.0.1 >/dev/null 2>&1 &
backend=$!
disown "$backend" # cluster_stop's wait is for the agents only
ON_EXIT+=(stop_backend)
stop_backend() { kill "$backend" 2>/dev/null; }

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT "$hv/v1/agent/service/register" \
    -d "{\"Name\":\"app\",\"ID\":\"app-1\",\"Port\":$backend_port,\"Check\":{\"TCP\":\"127.0.0.1:$backend_port\",\"Interval\":\"100ms\"}}")
[ "$code" = 200 ] || fail "register on n$victim: $code"
passing() { curl -s --max-time 5 "$ho/v1/health/service/app?passing" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }
health() { curl -s --max-time 5 "$ho/v1/catalog/nodes" | python3 -c "import json,sys; print(''.join(n['Health'] for n in json.load(sys.stdin) if n['Node']=='n$1'))"; }
deadline=$((SECONDS + 10))
until [ "$(passing)" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "app-1 never passed"
    sleep 0.1
done

node_kill "$victim"
start=$(now_ms)
deadline=$((SECONDS + 10))
until [ "$(health "$victim")" = failed ] && [ "$(passing)" = 0 ]; do
    [ $SECONDS -lt $deadline ] || fail "n$victim not failed in the registry within 10 s ($(health "$victim"))"
    sleep 0.05
done
echo "n$victim killed: failed in the registry and app-1 out of discovery after $(($(now_ms) - start)) ms"
curl -s --max-time 5 "$ho/v1/health/service/app" | grep -q '"serfHealth","Name":"Serf Health Status","Status":"critical"' ||
    fail "serfHealth is not critical"

node_start "$victim" 3
deadline=$((SECONDS + 15))
until [ "$(health "$victim")" = alive ] && [ "$(passing)" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "n$victim or app-1 did not come back ($(health "$victim"), $(passing) passing)"
    sleep 0.1
done
echo "n$victim back: alive, and app-1 passing again once its check passed"
cluster_stop
echo "PASS node_failure"
