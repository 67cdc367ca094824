#!/usr/bin/env bash
# lb_agent.sh: synod lb on the real registry: three synod agents, three HTTP backends
# registered on one of them with a TCP check every 100 ms (Consul's JSON), synod lb asking the
# agents. A backend killed turns critical and synod lb stops routing to it, with no client
# error; started again, it comes back; deregistered, it leaves; the agent synod lb asks dies
# and it asks the next; synod route reads the same registry. Every wait is bounded.
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lib.sh

FAKE=tests/cluster/lb_fake.py
P=$(python3 "$FAKE" ports 10) || fail "no free ports"
LB=$P STATS=$((P + 1))
declare -A BPID
LB_PID=

lb_cleanup() {
    local pid
    for pid in "$LB_PID" "${BPID[@]}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
}
trap 'lb_cleanup; cluster_stop' EXIT # lib.sh's cluster_stop waits for every child

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
backend_port() { echo $((P + 2 + ${1#web-})); } # web-1..3: P+3..P+5

backend_start() {
    python3 "$FAKE" backend "$1" "$(backend_port "$1")" >>"$CLUSTER_DIR/backends.log" 2>&1 &
    BPID[$1]=$!
    wait_until 10 port_open "$(backend_port "$1")" || fail "backend $1 did not start"
}

backend_kill() {
    kill -9 "${BPID[$1]}" 2>/dev/null
    wait "${BPID[$1]}" 2>/dev/null
    BPID[$1]=
}

agent() { echo "127.0.0.1:$(http_port "$1")"; }

register() { # register NAME on agent 1, with a TCP check every 100 ms
    local port
    port=$(backend_port "$1")
    curl -sf --max-time 10 -X PUT "http://$(agent 1)/v1/agent/service/register" -d \
        "{\"ID\":\"$1\",\"Name\":\"web\",\"Address\":\"127.0.0.1\",\"Port\":$port,\"Check\":{\"TCP\":\"127.0.0.1:$port\",\"Interval\":\"100ms\",\"Timeout\":\"1s\"}}" \
        >/dev/null
}

st() { python3 "$FAKE" stats "http://127.0.0.1:$STATS/stats" "$1"; }
up() { st "sorted(b['id'] for b in s['backends'] if b['state'] == 'up')"; }
sees() { [ "$(up)" = "$1" ]; }
get() { python3 "$FAKE" get "127.0.0.1:$LB" "$1"; }
expect() { [ "$2" = "$3" ] || fail "$1: got $2, want $3"; }

cluster_start 3
leader=$(wait_leader 1 15) || fail "no leader within 15 s"
# synod lb asks first the agent that dies later: a follower, not n1 (n1 runs the checks)
victim=$([ "$leader" = 3 ] && echo 2 || echo 3)
other=$((5 - victim))
for i in 1 2 3; do backend_start "web-$i"; done
for i in 1 2 3; do register "web-$i" || fail "cannot register web-$i"; done
"$SYNOD" lb --service web --listen "127.0.0.1:$LB" --stats-addr "127.0.0.1:$STATS" \
    --addr "$(agent "$victim"),$(agent "$other"),$(agent 1)" --threads 1 >>"$CLUSTER_DIR/lb.log" 2>&1 &
LB_PID=$!
# Checks start critical (as Consul's): the first TCP probes, 100 ms apart, make them pass.
wait_until 15 sees "['web-1', 'web-2', 'web-3']" || fail "synod lb did not see 3 passing instances"
say "3 instances registered on n1 with TCP checks; synod lb (asking n$victim) sees them passing"

routes=$("$SYNOD" route web -n 4 --addr "$(agent "$other")" | awk '{print $2}' | tr '\n' ' ')
expect "synod route on n$other" "$routes" "web-1 web-2 web-3 web-1 "
expect "round-robin over 30 connections" "$(get 30)" \
    '{"errors": 0, "web-1": 10, "web-2": 10, "web-3": 10}'

t0=$(now_ms)
backend_kill web-2
wait_until 10 sees "['web-1', 'web-3']" || fail "web-2 killed: synod lb still routes to it"
say "web-2 killed: its check turned critical and synod lb dropped it within $(($(now_ms) - t0)) ms (polled)"
expect "web-2 down: no client error" "$(get 20)" '{"errors": 0, "web-1": 10, "web-3": 10}'

backend_start web-2
wait_until 10 sees "['web-1', 'web-2', 'web-3']" || fail "web-2 did not come back"
curl -sf --max-time 10 -X PUT "http://$(agent 1)/v1/agent/service/deregister/web-3" >/dev/null ||
    fail "deregister web-3"
wait_until 10 sees "['web-1', 'web-2']" || fail "web-3 deregistered: still routed to"
say "web-2 back once its check passed; web-3 deregistered and gone"

node_kill "$victim"
register web-3 || fail "register web-3 again"
wait_until 15 sees "['web-1', 'web-2', 'web-3']" || fail "n$victim killed: synod lb learned nothing more"
expect "registry errors after n$victim died" "$(st "s['registry']['errors'] >= 1")" True
expect "after n$victim died" "$(get 30)" '{"errors": 0, "web-1": 10, "web-2": 10, "web-3": 10}'
say "n$victim (the agent asked first) killed: synod lb asked n$other and saw web-3 registered again"

kill -TERM "$LB_PID"
for _ in $(seq 1 100); do kill -0 "$LB_PID" 2>/dev/null || break; sleep 0.05; done
wait "$LB_PID"
expect "synod lb after SIGTERM exits" $? 0
LB_PID=
lb_cleanup
cluster_stop
echo "PASS lb_agent"
