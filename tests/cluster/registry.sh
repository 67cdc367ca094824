#!/usr/bin/env bash
# registry.sh: the service registry on real agents: Consul's Python client registers services
# with http, tcp and ttl checks that the agent runs (registry.py), a killed backend turns
# critical on every node; curl checks the wire details: pid and exec checks with real
# processes, DeregisterCriticalServiceAfter, bad definitions, the registry surviving a
# restart of the whole cluster.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
h1="http://127.0.0.1:$(http_port 1)"
h2="http://127.0.0.1:$(http_port 2)"
backend_port=$((BASE_PORT + 90))

/usr/bin/python3 tests/cluster/registry.py "$(http_port 1)" "$(http_port 2)" "$backend_port" ||
    fail "python-consul registry"

status_of() { # status_of CHECK_ID: its status as node 2 sees it
    curl -s --max-time 5 "$h2/v1/health/state/any" |
        python3 -c "import json,sys; print(''.join(c['Status'] for c in json.load(sys.stdin) if c['CheckID']=='$1'))"
}
wait_status() { # wait_status CHECK_ID STATUS SECONDS
    local deadline=$((SECONDS + $3))
    until [ "$(status_of "$1")" = "$2" ]; do
        [ $SECONDS -lt $deadline ] || fail "$1 is not $2 after $3 s (it is '$(status_of "$1")')"
        sleep 0.1
    done
}

# pid: a real process and its PID file; exec: a real command's exit code and output.
sleep 600 &
sleeper=$!
echo "$sleeper" >"$CLUSTER_DIR/svc.pid"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT "$h1/v1/agent/service/register" \
    -d "{\"Name\":\"job\",\"ID\":\"job-1\",\"Checks\":[{\"CheckID\":\"job-pid\",\"PIDFile\":\"$CLUSTER_DIR/svc.pid\",\"Interval\":\"100ms\"},{\"CheckID\":\"job-exec\",\"Args\":[\"sh\",\"-c\",\"echo warm; exit 1\"],\"Interval\":\"200ms\"}]}")
[ "$code" = 200 ] || fail "register job-1: $code"
wait_status job-pid passing 5
wait_status job-exec warning 5
curl -s --max-time 5 "$h2/v1/health/state/warning" | grep -q '"Output":"warm\\n"' ||
    fail "the exec check's output is not shown"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
wait_status job-pid critical 5
echo "pid and exec checks follow real processes"

# DeregisterCriticalServiceAfter: the leader removes the instance once it has been critical
# that long.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT "$h1/v1/agent/service/register" \
    -d '{"Name":"gone","ID":"gone-1","Check":{"TCP":"127.0.0.1:1","Interval":"100ms","DeregisterCriticalServiceAfter":"1s"}}')
[ "$code" = 200 ] || fail "register gone-1: $code"
deadline=$((SECONDS + 8))
until ! curl -s --max-time 5 "$h2/v1/catalog/services" | grep -q '"gone"'; do
    [ $SECONDS -lt $deadline ] || fail "gone-1 was not removed after being critical for 1 s"
    sleep 0.2
done
echo "an instance critical past DeregisterCriticalServiceAfter is removed"

# Bad definitions get 400 with a reason, and the agent keeps serving.
for body in '{' '{"ID":"x"}' '{"Name":"x","Check":{"TTL":"soon"}}' \
    '{"Name":"x","Check":{"HTTP":"http://a/","TCP":"a:1","Interval":"1s"}}' \
    '{"Name":"x","Port":70000}' '{"Name":"x","Tags":[1]}'; do
    code=$(curl -s -o "$CLUSTER_DIR/err" -w '%{http_code}' --max-time 10 -X PUT \
        "$h1/v1/agent/service/register" -d "$body")
    [ "$code" = 400 ] || fail "register $body: $code"
    grep -q '"error"' "$CLUSTER_DIR/err" || fail "no error message for $body"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT "$h1/v1/agent/check/pass/nope")" = 404 ] ||
    fail "a report for an unknown check is not 404"
echo "bad definitions: 400 with a reason"

# The registry is replicated state: it survives a restart of every node.
for i in 1 2 3; do node_kill "$i"; done
for i in 1 2 3; do node_start "$i" 3; done
wait_leader 1 15 >/dev/null || fail "no leader after the restart"
deadline=$((SECONDS + 10))
until curl -s --max-time 5 "$h2/v1/catalog/service/web" | grep -q '"web-1"'; do
    [ $SECONDS -lt $deadline ] || fail "web-1 is not in the catalog after a restart"
    sleep 0.2
done
echo "the registry survives a restart of the cluster"
cluster_stop
echo "PASS registry"
