#!/usr/bin/env bash
# lb.sh: synod lb with real TCP backends (HTTP servers on loopback) and fake agents
# (tests/cluster/lb_fake.py: Consul's health endpoint in its exact shape, blocking queries
# that the test wakes by changing the registry): round-robin spread, weighted and
# consistent-hash, a killed backend that the registry then marks critical, connect-failure
# retry and passive health, draining (kept until closed; closed by --drain-timeout-ms),
# replay of a request whose backend died, failover to a second agent, the stats endpoint,
# synod route, usage errors and SIGTERM. Every wait is bounded.
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lib.sh

FAKE=tests/cluster/lb_fake.py
P=$(python3 "$FAKE" ports 30) || fail "no free ports"
REG_A=$P REG_B=$((P + 1)) REG_C=$((P + 2))
LB=$((P + 3)) STATS=$((P + 4))
declare -A BPID LBPID
declare -a REGPID
REGS=("$REG_A" "$REG_B")

lb_cleanup() {
    local pid
    for pid in "${LBPID[@]}" "${BPID[@]}" "${REGPID[@]}" "${HOLD_PID:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
    wait 2>/dev/null
}
# lib.sh's cluster_stop waits for every child: ours must be gone first.
trap 'lb_cleanup; cluster_stop' EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

backend_port() { echo $((P + 10 + ${1#web-})); } # web-I listens on P + 10 + I

backend_start() { # backend_start NAME [PORT] [--die-on-request]
    local port=${2:-$(backend_port "$1")}
    python3 "$FAKE" backend "$1" "$port" "${@:3}" >>"$CLUSTER_DIR/backends.log" 2>&1 &
    BPID[$1]=$!
    wait_until 10 port_open "$port" || fail "backend $1 did not start"
}

backend_kill() { # kill -9, and reaped: its port refuses connections from now on
    kill -9 "${BPID[$1]}" 2>/dev/null
    wait "${BPID[$1]}" 2>/dev/null
    BPID[$1]=
}

registry_start() { # registry_start PORT SERVICE
    python3 "$FAKE" registry "$1" "$2" >>"$CLUSTER_DIR/registry.log" 2>&1 &
    REGPID+=($!)
    wait_until 10 port_open "$1" || fail "fake registry on $1 did not start"
}

reg() { # reg METHOD PATH [BODY]: the same change on every fake agent of REGS
    local r
    for r in "${REGS[@]}"; do
        curl -sf --max-time 5 -X "$1" ${3:+-d "$3"} "http://127.0.0.1:$r$2" >/dev/null ||
            fail "fake registry $r: $1 $2"
    done
}

instance() { # instance NAME [WEIGHT]: NAME listed passing at its port
    reg PUT "/fake/instance/$1" "{\"port\":$(backend_port "$1"),\"weight\":${2:-1}}"
}

lb_start() { # lb_start NAME ARGS...: a synod lb in the background, logging to lb-NAME.log
    local name=$1
    shift
    "$SYNOD" lb "$@" >>"$CLUSTER_DIR/lb-$name.log" 2>&1 &
    LBPID[$name]=$!
}

wait_exit() { # wait_exit PID SECONDS: PID's exit status once it exits; 124 if it did not
    local deadline=$(($(now_ms) + $2 * 1000))
    while kill -0 "$1" 2>/dev/null && [ "$(now_ms)" -lt $deadline ]; do
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && return 124
    wait "$1"
}

# A client that holds one keep-alive connection (lb_fake.py hold), as a coprocess: one at a
# time; hold_next asks again on it, hold_end ends it.
hold_start() { # hold_start LB_PORT: the first answer in ANSWER (not in a subshell: coproc)
    coproc HOLD { python3 "$FAKE" hold "127.0.0.1:$1"; }
    read -r -t 5 -u "${HOLD[0]}" ANSWER || fail "held connection: no first answer"
}
hold_next() { # the next answer on the same connection in ANSWER
    if [ -z "${HOLD_PID:-}" ]; then # the client ended after an error
        ANSWER=error
        return
    fi
    echo again >&"${HOLD[1]}"
    read -r -t 5 -u "${HOLD[0]}" ANSWER || fail "held connection: no answer"
}
hold_end() {
    local pid=${HOLD_PID:-}
    [ -n "$pid" ] && eval "exec ${HOLD[1]}>&-"
    [ -n "$pid" ] && wait_exit "$pid" 5
}

st() { python3 "$FAKE" stats "http://127.0.0.1:${2:-$STATS}/stats" "$1"; } # st EXPR [PORT]
up() { st "sorted(b['id'] for b in s['backends'] if b['state'] == 'up')" "${1:-$STATS}"; }
sees() { [ "$(up "${2:-$STATS}")" = "$1" ]; } # sees "['web-1', ...]" [STATS_PORT]
get() { python3 "$FAKE" get "127.0.0.1:$1" "$2" "${3:-/id}"; } # get LB_PORT COUNT [PATH]

expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got $2, want $3"
}

# ---- Usage ---------------------------------------------------------------------------------
"$SYNOD" lb --help | grep -q '^usage: synod lb' || fail "synod lb --help"
"$SYNOD" lb >/dev/null 2>&1
expect "synod lb without options exits" $? 2
"$SYNOD" lb --service web --listen 127.0.0.1:1 --policy nope >/dev/null 2>&1
expect "an unknown policy exits" $? 2
"$SYNOD" route --help | grep -q '^usage: synod route' || fail "synod route --help"

# ---- Start: 3 backends, 2 fake agents with the same registry, synod lb asking them -----------
for i in 1 2 3; do backend_start "web-$i"; done
registry_start "$REG_A" web
registry_start "$REG_B" web
for i in 1 2 3; do instance "web-$i"; done
# One thread where the test counts exact round-robin turns (each thread has its own turn).
lb_start main --service web --listen "127.0.0.1:$LB" --stats-addr "127.0.0.1:$STATS" \
    --addr "127.0.0.1:$REG_A,127.0.0.1:$REG_B" --connect-timeout-ms 1000 --fall 2 --down-ms 1000 \
    --threads 1
wait_until 10 sees "['web-1', 'web-2', 'web-3']" || fail "synod lb did not learn the 3 instances"
say "synod lb sees web-1, web-2, web-3"
for threads in 1 2; do # 2: the workers' sockets share a port, yet not with another process
    out=$("$SYNOD" lb --service web --listen "127.0.0.1:$LB" --addr "127.0.0.1:$REG_A" \
        --threads $threads 2>&1)
    expect "a second synod lb on a busy port ($threads threads) exits" $? 1
    echo "$out" | grep -q 'address already in use' || fail "busy port: $out"
done

# ---- Round-robin spread, and the stats ------------------------------------------------------
expect "30 connections, round-robin" "$(get "$LB" 30)" \
    '{"errors": 0, "web-1": 10, "web-2": 10, "web-3": 10}'
expect "accepted" "$(st "s['connections']['accepted']")" 30
expect "per-backend totals" "$(st "[b['total'] for b in s['backends']]")" "[10, 10, 10]"
expect "bytes both ways" "$(st "all(b['bytes_in'] > 0 and b['bytes_out'] > 0 for b in s['backends'])")" True
expect "nothing open" "$(st "[s['connections']['active']] + [b['active'] for b in s['backends']]")" \
    "[0, 0, 0, 0]"
expect "registry index" "$(st "s['registry']['index'] >= 4 and s['registry']['answers'] >= 1")" True
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$STATS/metrics")
echo "$metrics" | grep -qx "synod_lb_backend_connections_total{service=\"web\",backend=\"web-1\",node=\"n1\",addr=\"127.0.0.1:$(backend_port web-1)\"} 10" ||
    fail "/metrics: no connections_total of 10 for web-1"
echo "$metrics" | grep -qx 'synod_lb_connections_accepted_total{service="web"} 30' ||
    fail "/metrics: accepted_total"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
expect "HEAD /stats" "$(code -I "http://127.0.0.1:$STATS/stats")" 200
expect "GET /nope" "$(code "http://127.0.0.1:$STATS/nope")" 404
expect "POST /metrics" "$(code -X POST "http://127.0.0.1:$STATS/metrics")" 405
say "round-robin: 10/10/10 over 30 connections; stats and metrics agree"

# ---- synod route, then the weighted and consistent-hash policies ------------------------------
routes=$("$SYNOD" route web -n 5 --addr "127.0.0.1:$REG_A")
want=$(printf '%s\n' "1  web-1  127.0.0.1:$(backend_port web-1)" \
    "2  web-2  127.0.0.1:$(backend_port web-2)" "3  web-3  127.0.0.1:$(backend_port web-3)" \
    "4  web-1  127.0.0.1:$(backend_port web-1)" "5  web-2  127.0.0.1:$(backend_port web-2)")
expect "synod route web -n 5" "$routes" "$want"
"$SYNOD" route web -n 3 --json --addr "127.0.0.1:$REG_A" | grep -q '"n":3,"id":"web-3"' ||
    fail "synod route --json"
"$SYNOD" route nosuch --addr "127.0.0.1:$REG_A" >/dev/null 2>&1
expect "synod route for a service without instances exits" $? 1
instance web-1 3
routes=$("$SYNOD" route web -n 5 --policy weighted --addr "127.0.0.1:$REG_A" | awk '{print $2}' |
    tr '\n' ' ')
expect "synod route --policy weighted (3, 1, 1)" "$routes" "web-1 web-2 web-1 web-3 web-1 "
lb_start weighted --service web --listen "127.0.0.1:$((P + 5))" --policy weighted \
    --stats-addr "127.0.0.1:$((P + 6))" --addr "127.0.0.1:$REG_A" --threads 1
lb_start hash --service web --listen "127.0.0.1:$((P + 7))" --policy consistent-hash \
    --stats-addr "127.0.0.1:$((P + 8))" --addr "127.0.0.1:$REG_B" --threads 3
wait_until 10 sees "['web-1', 'web-2', 'web-3']" $((P + 6)) || fail "weighted lb did not start"
wait_until 10 sees "['web-1', 'web-2', 'web-3']" $((P + 8)) || fail "hash lb did not start"
expect "weighted 3:1:1 over 50 connections" "$(get $((P + 5)) 50)" \
    '{"errors": 0, "web-1": 30, "web-2": 10, "web-3": 10}'
expect "one client, consistent-hash" "$(get $((P + 7)) 20 | python3 -c \
    'import json,sys; c=json.load(sys.stdin); print(c.pop("errors"), sorted(c.values()))')" "0 [20]"
# 3 threads, each with its own socket: the same ring in each, and the stats add them up
expect "accepted by 3 threads" "$(st "s['connections']['accepted'], sum(b['total'] for b in s['backends'])" $((P + 8)))" "(20, 20)"
grep -q '(consistent-hash, 3 threads)' "$CLUSTER_DIR/lb-hash.log" || fail "hash lb: not 3 threads"
for name in weighted hash; do
    kill -TERM "${LBPID[$name]}"
    wait_exit "${LBPID[$name]}" 5
    expect "synod lb ($name) after SIGTERM exits" $? 0
    LBPID[$name]=
done
instance web-1 1
say "route, weighted (30/10/10) and consistent-hash (one backend per client) as expected"

# ---- A backend dies; the registry marks it critical --------------------------------------------
backend_kill web-2
expect "web-2 killed, still listed: no client error" "$(get "$LB" 12)" \
    '{"errors": 0, "web-1": 6, "web-3": 6}'
t0=$(now_ms)
reg PUT /fake/status/web-2/critical
wait_until 5 sees "['web-1', 'web-3']" || fail "synod lb still routes to web-2, marked critical"
t1=$(date -d "$(grep '1 removed' "$CLUSTER_DIR/lb-main.log" | tail -n 1 | cut -d' ' -f1)" +%s%3N)
say "web-2 marked critical: synod lb dropped it $((t1 - t0)) ms after the registry was told"
expect "web-2 critical: no client error" "$(get "$LB" 30)" '{"errors": 0, "web-1": 15, "web-3": 15}'

# ---- Connect failures: retried elsewhere, and passive health -----------------------------------
backend_start web-2
reg PUT /fake/status/web-2/passing
wait_until 5 sees "['web-1', 'web-2', 'web-3']" || fail "web-2 did not come back"
backend_kill web-3
out=$(get "$LB" 30)
expect "web-3 refuses, still listed: no client error" "$(echo "$out" | grep -c '"errors": 0')" 1
echo "$out" | grep -q web-3 && fail "web-3 answered while dead: $out"
grep -q 'backend web-3 (.*) marked down for 1000 ms: 2 connects failed' "$CLUSTER_DIR/lb-main.log" ||
    fail "web-3 was not marked down after 2 refused connects"
expect "web-3's connect failures" "$(st "[b['connect_failures'] >= 2 and 'refused' in b['last_error'] for b in s['backends'] if b['id'] == 'web-3']")" "[True]"
expect "retries counted" "$(st "s['connections']['retries'] >= 2 and s['connections']['failed'] == 0")" True
backend_start web-3
back() { get "$LB" 6 | grep -q web-3; }
wait_until 10 back || fail "web-3 gets no connection after it came back (--down-ms 1000)"
say "web-3 dead but listed: every client served elsewhere; marked down; back after --down-ms"

# ---- Draining ------------------------------------------------------------------------------
hold_start "$LB"
held=$ANSWER
say "a client holds a keep-alive connection to $held"
reg DELETE "/fake/instance/$held"
draining() { [ "$(st "[b['state'] for b in s['backends'] if b['id'] == '$held']")" = "['draining']" ]; }
wait_until 5 draining || fail "$held removed: not draining"
out=$(get "$LB" 12)
echo "$out" | grep -q "$held" && fail "$held, removed, got new connections: $out"
echo "$out" | grep -q '"errors": 0' || fail "errors while $held drains: $out"
hold_next
expect "the draining connection still reaches its backend" "$ANSWER" "$held"
hold_end # the client closes its connection
gone() { [ "$(st "[b['id'] for b in s['backends'] if b['id'] == '$held']")" = "[]" ]; }
wait_until 5 gone || fail "$held still listed after its last connection closed"
instance "$held"
wait_until 5 sees "['web-1', 'web-2', 'web-3']" || fail "$held did not come back"
say "draining: $held kept its open connection, got no new one, and left once it closed"
lb_start drain --service web --listen "127.0.0.1:$((P + 20))" --drain-timeout-ms 300 --threads 2 \
    --stats-addr "127.0.0.1:$((P + 21))" --addr "127.0.0.1:$REG_A"
wait_until 10 sees "['web-1', 'web-2', 'web-3']" $((P + 21)) || fail "drain lb did not start"
hold_start $((P + 20))
held=$ANSWER
reg DELETE "/fake/instance/$held"
sleep 1
hold_next
expect "a connection past --drain-timeout-ms" "$ANSWER" error
hold_end
expect "drained" "$(st "s['connections']['drained']" $((P + 21)))" 1
instance "$held"
kill -TERM "${LBPID[drain]}"
wait_exit "${LBPID[drain]}" 5 || fail "drain lb did not exit"
LBPID[drain]=
say "--drain-timeout-ms 300: the removed backend's connection was closed"

# ---- Replay: a backend that dies holding a request ---------------------------------------------
backend_start web-9 $((P + 19)) --die-on-request
registry_start "$REG_C" api
curl -sf -X PUT -d "{\"port\":$(backend_port web-1)}" "http://127.0.0.1:$REG_C/fake/instance/api-1" >/dev/null
curl -sf -X PUT -d "{\"port\":$((P + 19))}" "http://127.0.0.1:$REG_C/fake/instance/api-9" >/dev/null
lb_start replay --service api --listen "127.0.0.1:$((P + 22))" --replay --threads 1 \
    --stats-addr "127.0.0.1:$((P + 23))" --addr "127.0.0.1:$REG_C"
wait_until 10 sees "['api-1', 'api-9']" $((P + 23)) || fail "replay lb did not start"
expect "--replay: a request whose backend died is answered elsewhere" "$(get $((P + 22)) 10)" \
    '{"errors": 0, "web-1": 10}'
# One replay at least: a second connection may reach the dying backend's listen queue too.
expect "replays" "$(st "s['connections']['replays'] >= 1 and [b['replays'] > 0 for b in s['backends']] == [False, True]" $((P + 23)))" \
    True
backend_kill web-9
backend_start web-9 $((P + 19)) --die-on-request
lb_start noreplay --service api --listen "127.0.0.1:$((P + 24))" --threads 1 \
    --stats-addr "127.0.0.1:$((P + 25))" --addr "127.0.0.1:$REG_C"
wait_until 10 sees "['api-1', 'api-9']" $((P + 25)) || fail "second replay lb did not start"
# The dying backend's first request fails; a later one may too if it reaches the listen queue
# before the process is gone (a slow machine): one or two errors, the rest served by web-1.
got=$(get $((P + 24)) 4)
python3 -c 'import json, sys; d = json.loads(sys.argv[1]); e = d.get("errors", 0)
sys.exit(not (1 <= e <= 2 and d.get("web-1", 0) == 4 - e and len(d) == 2))' "$got" ||
    fail "without --replay the client sees the failure: got $got, want 1 or 2 errors, the rest web-1"
say "--replay hid a backend that died mid-request; without it the client saw the error ($got)"
# Backends that close each connection after one answer (as one killed, or timing the
# connection out, between requests would): with --replay a keep-alive client's next request
# goes to another backend; without, it meets the close.
backend_start web-7 $((P + 17)) --close-after-answer
backend_start web-8 $((P + 18)) --close-after-answer
for id in 7 8; do
    curl -sf -X PUT -d "{\"port\":$((P + 10 + id))}" "http://127.0.0.1:$REG_C/fake/instance/api-$id" >/dev/null
done
for id in 1 9; do curl -sf -X DELETE "http://127.0.0.1:$REG_C/fake/instance/api-$id" >/dev/null; done
wait_until 10 sees "['api-7', 'api-8']" $((P + 23)) || fail "replay lb: no api-7, api-8"
wait_until 10 sees "['api-7', 'api-8']" $((P + 25)) || fail "second replay lb: no api-7, api-8"
hold_start $((P + 22))
answers=$ANSWER
for _ in 1 2 3; do
    sleep 0.05 # the backend's close comes first (well within LB_REPLAY_GRACE_MS)
    hold_next
    answers="$answers $ANSWER"
done
hold_end
case "$answers" in *error*) fail "--replay: a request after the backend closed failed: $answers" ;; esac
[ "$(echo "$answers" | cut -d' ' -f1)" != "$(echo "$answers" | cut -d' ' -f2)" ] ||
    fail "--replay: the request after a close went to the same backend: $answers"
hold_start $((P + 24))
hold_next
expect "without --replay, a request after the backend closed" "$ANSWER" error
hold_end
say "--replay: a keep-alive client whose backend closed between requests was answered by another ($answers)"

# ---- The first agent dies: synod lb asks the second ---------------------------------------------
kill -TERM "${REGPID[0]}"
wait "${REGPID[0]}" 2>/dev/null
REGS=("$REG_B")
reg DELETE /fake/instance/web-1
wait_until 10 sees "['web-2', 'web-3']" || fail "synod lb did not learn from the second agent"
expect "registry errors" "$(st "s['registry']['errors'] >= 1 and s['registry']['addr'].endswith(':$REG_A')")" True
expect "after failover" "$(get "$LB" 10)" '{"errors": 0, "web-2": 5, "web-3": 5}'
say "first agent killed: the change came from the second"

# ---- SIGTERM with a connection open --------------------------------------------------------------
hold_start "$LB"
kill -TERM "${LBPID[main]}"
wait_exit "${LBPID[main]}" 5
expect "synod lb after SIGTERM exits" $? 0
LBPID[main]=
hold_next
expect "the held connection after SIGTERM" "$ANSWER" error
hold_end
grep -q 'stopped: ' "$CLUSTER_DIR/lb-main.log" || fail "no 'stopped' line in the log"
say "SIGTERM: closed its connections and exited 0"
lb_cleanup
cluster_stop
echo "PASS lb"
