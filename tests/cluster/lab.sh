#!/usr/bin/env bash
# lab.sh: the course lab (docs/lab.md) run as a script against a real 3-node cluster, each of
# its ten steps with synod's commands, checking the output a user should see. LAB_SHOW=1
# prints every command and its output (docs/lab.md's examples come from such a run).
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

SYN=$(readlink -f "$SYNOD")
dns_port() { echo $((BASE_PORT + 300 + $1)); }
addrs=""
for i in 1 2 3; do addrs="$addrs${addrs:+,}127.0.0.1:$(http_port "$i")"; done
export SYNOD_HTTP_ADDR=$addrs
H="http://127.0.0.1:$(http_port 1)"
LAB=$CLUSTER_DIR/lab
mkdir -p "$LAB"
cd "$LAB" || exit 1
SYNOD=$SYN

step() { echo; echo "== $*"; }
run() { # run CMD...: prints the command and its output (LAB_SHOW=1), leaves it in $out
    out=$("$@" 2>&1)
    if [ "${LAB_SHOW:-0}" = 1 ]; then
        echo "\$ $*"
        echo "$out"
    fi
}
expect() { # expect TEXT: the last output holds TEXT
    grep -qF -- "$1" <<<"$out" || fail "expected '$1' in: $out"
}
until_out() { # until_out SECONDS TEXT CMD...: runs CMD until its output holds TEXT
    local deadline=$((SECONDS + $1)) text=$2
    shift 2
    while :; do
        run "$@"
        grep -qF -- "$text" <<<"$out" && return 0
        [ $SECONDS -lt $deadline ] || fail "no '$text' after $1 s from $*: $out"
        sleep 0.2
    done
}
backend() { # backend PORT: a web server answering /health.txt, gone with the cluster
    python3 -m http.server "$1" --bind 127.0.0.1 >/dev/null 2>&1 &
    disown "$!"
    BACKENDS+=("$!")
}
BACKENDS=()
stop_all() { kill "${BACKENDS[@]}" 2>/dev/null; [ -f service.pid ] && kill "$(cat service.pid)" 2>/dev/null; }
ON_EXIT+=(stop_all)

for i in 1 2 3; do node_start "$i" 3 --dns-addr "127.0.0.1:$(dns_port "$i")"; done
CLUSTER_SIZE=3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"

step "1. A service with a PID file, and its pid check"
sleep 1000 &
disown "$!"
echo $! >service.pid
run "$SYN" service register --name worker --id worker-1 --port 9000 \
    --check-pidfile "$LAB/service.pid" --interval 500ms
expect "worker-1: registered"

step "2. Is the service running?"
until_out 10 "process $(cat service.pid) is running" "$SYN" service show worker
expect "1 passing"

step "3. An HTTP health check"
echo healthy >health.txt
p1=$((BASE_PORT + 81)) p2=$((BASE_PORT + 82)) p3=$((BASE_PORT + 83))
for p in $p1 $p2 $p3; do backend "$p"; done
run "$SYN" service register --name web --id web-1 --address 127.0.0.1 --port "$p1" \
    --check-http "http://127.0.0.1:$p1/health.txt" --interval 500ms
expect "web-1: registered"
until_out 10 "Output: healthy" curl -s "$H/v1/health/service/web?passing"

step "4. The registry, as JSON"
run "$SYN" service register --name web --id web-2 --address 127.0.0.1 --port "$p2" \
    --check-http "http://127.0.0.1:$p2/health.txt" --interval 500ms
run "$SYN" service register --addr "127.0.0.1:$(http_port 3)" --name web --id web-3 \
    --address 127.0.0.1 --port "$p3" --check-http "http://127.0.0.1:$p3/health.txt" --interval 500ms
until_out 10 '"worker"' curl -s "$H/v1/catalog/services"
expect '"web"'
run "$SYN" service list
expect "web"

step "5. Round-robin routing"
until_out 10 "web-3" "$SYN" route web -n 5
[ "$(awk '{print $2}' <<<"$out" | sort | uniq -c | awk '{print $1}' | sort | tr '\n' ' ')" = "1 2 2 " ] ||
    fail "5 requests do not rotate over 3 instances: $out"
run dig @127.0.0.1 -p "$(dns_port 2)" +short web.service.synod SRV
[ "$(wc -l <<<"$out")" = 3 ] || fail "DNS does not list the three instances: $out"

step "6. Kill a service and a node"
kill "$(cat service.pid)"
leader=$(find_leader 10) || fail "no leader"
node_kill 3 # n3 runs web-3's checks
if [ "$leader" = 3 ]; then echo "(n3 was the leader)"; fi

step "7. Detect the failure, and the failover"
until_out 10 "critical" "$SYN" service show worker
expect "is not running"
until_out 15 "failed" "$SYN" members --addr "127.0.0.1:$(http_port 1)"
until_out 15 "node n3 failed" "$SYN" service show web
run "$SYN" route web -n 4
grep -q "web-3" <<<"$out" && fail "web-3 on the failed node is still routed to: $out"
run "$SYN" status --addr "127.0.0.1:$(http_port 1),127.0.0.1:$(http_port 2)"
expect "leader"

step "8. The cluster's state"
run curl -s "$H/v1/health/state/critical"
expect "worker-1"
expect "web-3"
run "$SYN" service list
expect "web"

step "9. The heartbeat monitor"
run timeout 3 "$SYN" monitor --since 0 --addr "127.0.0.1:$(http_port 1)"
expect "failed: n3"

step "10. Log replication"
run "$SYN" log append "Message 1"
run "$SYN" log append "Message 2"
for i in 1 2; do
    until_out 10 "Message 2" "$SYN" log show --node "n$i"
    expect "Message 1"
done
node_start 3 3 --dns-addr "127.0.0.1:$(dns_port 3)"
until_out 20 "Message 2" "$SYN" log show --node n3
until_out 15 "alive" "$SYN" members --addr "127.0.0.1:$(http_port 1)"
until_out 15 "web-3" "$SYN" route web -n 3
echo
cluster_stop
echo "PASS lab"
