#!/usr/bin/env bash
# cli_registry.sh: synod service, watch, monitor and log against three real agents on
# loopback, with real backends (python3 -m http.server) and real failures: instances
# registered with flags, from a JSON file and from standard input, listed and shown (tables
# and --json, parsed with python3); synod watch printing the change when a backend is killed;
# synod monitor showing the check's status change, then the failure detector's verdict and
# the election after the leader is SIGKILLed; synod log append on one node and log show on
# every node, and on the killed node once restarted (--follow waits for it and shows it
# catch up); Ctrl-C ending a watch with status 0; usage errors. Every CLI call and every wait
# is bounded.
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lib.sh

s() { timeout 30 "$SYNOD" "$@"; } # the CLI, bounded
h() { echo "127.0.0.1:$(http_port "$1")"; }
py() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

expect_exit() { # expect_exit CODE ARGS...: the CLI exits with CODE; its stderr in $err
    local want=$1 rc=0
    shift
    err=$(s "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = "$want" ] || fail "synod $* exited $rc, expected $want: $err"
}

declare -a BG # background processes this test started, ended before the cluster stops
bg_stop() { # SIGTERM: the following commands exit 0 on it, the backends end
    local p
    for p in "${BG[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    BG=()
}
follow() { # follow NAME ARGS...: synod ARGS in the background, until bg_stop; its output in
    # $CLUSTER_DIR/NAME.out and .err, its pid in $follower
    local name=$1
    shift
    "$SYNOD" "$@" >"$CLUSTER_DIR/$name.out" 2>"$CLUSTER_DIR/$name.err" &
    follower=$!
    BG+=("$follower")
}
trap 'bg_stop; cluster_stop' EXIT # before cluster_stop waits for every child

backend_start() { # backend_start PORT: a real HTTP server; its pid in $backend
    (cd "$CLUSTER_DIR" && exec python3 -m http.server "$1" --bind 127.0.0.1 >/dev/null 2>&1) &
    backend=$!
    BG+=("$backend")
    wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" ||
        fail "the backend on port $1 did not start"
}

in_file() { grep -q -- "$2" "$1" 2>/dev/null; } # in_file FILE PATTERN

cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
export SYNOD_HTTP_ADDR
SYNOD_HTTP_ADDR="$(h 1),$(h 2),$(h 3)"
leader=$(find_leader 10) || fail "no agreed leader"
f1=$((leader % 3 + 1))
f2=$((f1 % 3 + 1))
say "leader n$leader, followers n$f1 and n$f2"

# ---- synod service register, list, show ------------------------------------------------
port1=$((BASE_PORT + 91))
port2=$((BASE_PORT + 92))
backend_start "$port1"
backend1=$backend
backend_start "$port2"
backend2=$backend

out=$(s service register --addr "$(h "$f2")" --name web --id web-1 --port "$port1" --tag v1 \
    --tag blue --meta zone=a --check-http "http://127.0.0.1:$port1/" --interval 100ms \
    --timeout 1s) || fail "register web-1 with flags"
echo "$out"
[ "$out" = "web-1: registered with the agent at $(h "$f2") (its node runs the checks)" ] ||
    fail "register said: $out"
cat >"$CLUSTER_DIR/web-2.json" <<EOF
{"ID": "web-2", "Name": "web", "Port": $port2, "Tags": ["v1"],
 "Check": {"TCP": "127.0.0.1:$port2", "Interval": "100ms", "Timeout": "1s"}}
EOF
out=$(s service register "$CLUSTER_DIR/web-2.json" --addr "$(h "$f1")" --json) ||
    fail "register web-2 from a file"
[ "$(echo "$out" | py 'd["id"], d["agent"]')" = "web-2 $(h "$f1")" ] ||
    fail "register --json said: $out"
echo '{"Name": "api", "Check": {"TTL": "30s"}}' | s service register - >/dev/null ||
    fail "register api from standard input"

services_passing() { # web has 2 instances, both passing; api 1, not passing
    [ "$(s service list --json | py '[(r["name"], r["instances"], r["passing"]) for r in d]')" = \
        "[('api', 1, 0), ('web', 2, 2)]" ]
}
wait_until 10 services_passing || fail "web is not 2 of 2 passing: $(s service list --json)"
out=$(s service list) || fail "service list"
echo "$out"
echo "$out" | grep -Eq '^web +v1,blue +2 +2$' || fail "service list: no web row"
echo "$out" | grep -Eq '^api +1 +0$' || fail "service list: no api row"
out=$(s service show web) || fail "service show"
echo "$out"
echo "$out" | grep -q '^web: 2 instances, 2 passing$' || fail "service show: no summary"
echo "$out" | grep -Eq "^n$f2 +web-1 +127\.0\.0\.1:$port1 +passing +serfHealth +passing" ||
    fail "service show: no web-1 row"
echo "$out" | grep -Eq "service:web-1 +passing +HTTP GET http://127\.0\.0\.1:$port1/: 200" ||
    fail "service show: no check output of web-1"
[ "$(s service show web --json | py 'sorted(e["Service"]["ID"] for e in d)')" = "['web-1', 'web-2']" ] ||
    fail "service show --json"
expect_exit 1 service show nosuch
echo "$err" | grep -q 'nosuch: no such service' || fail "show nosuch said: $err"
echo "service register (flags, file, stdin), list and show"

# ---- synod watch and synod monitor while a backend dies ---------------------------------
follow watch watch service web --addr "$(h "$f1"),$(h "$f2")"
watch=$follower
follow watch_json watch service web --json --addr "$(h "$f2")"
follow monitor monitor --addr "$(h "$f1"),$(h "$f2")"
follow monitor_json monitor --json --addr "$(h "$f2")"
wait_until 10 in_file "$CLUSTER_DIR/watch.out" ' web at index [0-9]*: 2 of 2 instances healthy' ||
    fail "watch printed no start block: $(cat "$CLUSTER_DIR/watch.out" "$CLUSTER_DIR/watch.err")"
in_file "$CLUSTER_DIR/watch.out" "^  web-2 on n$f1 at 127.0.0.1:$port2: passing" ||
    fail "watch's start block has no web-2"
wait_until 10 in_file "$CLUSTER_DIR/watch_json.out" '"start":true' || fail "watch --json did not start"
for m in monitor monitor_json; do # they print what happens after their first answer
    wait_until 10 in_file "$CLUSTER_DIR/$m.err" "^synod: following the events of n[$f1$f2] at 127.0.0.1:[0-9]*, after event [0-9]*$" ||
        fail "$m did not start: $(cat "$CLUSTER_DIR/$m.err")"
done
kill -9 "$backend2"
wait "$backend2" 2>/dev/null
wait_until 10 in_file "$CLUSTER_DIR/watch.out" \
    "^  web-2 passing -> critical (TCP connect 127.0.0.1:$port2: connection refused)" ||
    fail "watch did not print web-2's change: $(cat "$CLUSTER_DIR/watch.out")"
cat "$CLUSTER_DIR/watch.out"
in_file "$CLUSTER_DIR/watch.out" ' web at index [0-9]*: 1 of 2 instances healthy (web-1)$' ||
    fail "watch's change block does not name the healthy instance"
watch_json_changed() {
    python3 - "$CLUSTER_DIR/watch_json.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["start"] and lines[0]["healthy"] == 2 and lines[0]["changes"] == []
ch = [c for l in lines[1:] for c in l["changes"]]
assert {"id": "web-2", "from": "passing", "to": "critical"}.items() <= ch[0].items(), ch
assert "connection refused" in ch[0]["output"], ch
PY
}
wait_until 5 watch_json_changed 2>/dev/null || watch_json_changed || fail "watch --json"
wait_until 10 in_file "$CLUSTER_DIR/monitor.out" \
    "Z n$f1 check: web-2/service:web-2: passing -> critical (TCP connect" ||
    fail "monitor did not show the check's change: $(cat "$CLUSTER_DIR/monitor.out")"
wait_until 5 in_file "$CLUSTER_DIR/monitor.out" "Z n$f1 registry: registry changed at index" ||
    fail "monitor did not show the registry change"
echo "watch and monitor show a backend's death"

# Ctrl-C ends a watch with status 0.
kill -INT "$watch"
rc=0
wait "$watch" || rc=$?
[ "$rc" = 0 ] || fail "watch exited $rc on SIGINT"

# ---- the replicated log -----------------------------------------------------------------
out=$(s log append "entry one" --addr "$(h "$f1")") || fail "log append"
echo "$out"
echo "$out" | grep -Eq '^appended at index [0-9]+ \(synod/log/[0-9]{20}\)$' || fail "append said: $out"
index1=$(echo "$out" | sed -E 's/^appended at index ([0-9]+) .*/\1/')
shows_on() { # shows_on NODE TEXT: node NODE's own copy holds TEXT
    s log show --node "n$1" --json 2>/dev/null | py "[e['text'] for e in d]" | grep -q "'$2'"
}
for i in 1 2 3; do
    wait_until 5 shows_on "$i" "entry one" || fail "n$i's copy has no 'entry one'"
done
out=$(s log show --node "n$f2") || fail "log show"
echo "$out"
echo "$out" | grep -Eq "^$index1 +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z  entry one$" ||
    fail "log show's line: $out"
[ "$(s log show --json | py "[e['index'] for e in d]")" = "[$index1]" ] || fail "log show --json"
echo "an entry reaches every node"

# ---- the leader dies: the monitors see it, a new leader is elected ---------------------
old_term=$(info_field "$f1" term)
node_kill "$leader"
new=$(wait_new_leader "$leader" 15 "$f1" "$f2") || fail "no new leader"
say "n$leader killed; n$new leads"
wait_until 10 in_file "$CLUSTER_DIR/monitor.out" "Z n$f1 failed: n$leader (phi " ||
    fail "monitor did not show n$leader failed: $(cat "$CLUSTER_DIR/monitor.out")"
wait_until 10 in_file "$CLUSTER_DIR/monitor.out" "Z n$f1 leader: n$new is the leader in term" ||
    fail "monitor did not show the election"
cat "$CLUSTER_DIR/monitor.out"
monitor_json_election() {
    python3 - "$CLUSTER_DIR/monitor_json.out" "$old_term" "n$new" "n$leader" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
term, new, dead = int(sys.argv[2]), sys.argv[3], sys.argv[4]
leaders = [e for e in events if e["kind"] == "leader" and e["text"].startswith(new + " ")]
assert leaders and int(leaders[-1]["text"].split(" term ")[1].split()[0]) > term, events
assert any(e["kind"] in ("suspect", "failed") and e["text"].startswith(dead + " ") for e in events)
assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
PY
}
wait_until 5 monitor_json_election 2>/dev/null || monitor_json_election || fail "monitor --json"
echo "monitor shows the failure detector's verdict and the election"

# ---- a restarted node catches up --------------------------------------------------------
out=$(s log append "entry two" --addr "$(h "$f1"),$(h "$f2")") || fail "append while n$leader is down"
index2=$(echo "$out" | sed -E 's/^appended at index ([0-9]+) .*/\1/')
follow follow log show --node "n$leader" --follow --addr "$(h "$leader")"
expect_exit 1 log show --node "n$leader" --addr "$(h "$leader")"
node_start "$leader" 3
wait_until 15 in_file "$CLUSTER_DIR/follow.out" "^$index2 .*  entry two$" ||
    fail "the restarted n$leader's copy did not catch up: $(cat "$CLUSTER_DIR/follow.out" "$CLUSTER_DIR/follow.err")"
cat "$CLUSTER_DIR/follow.out"
in_file "$CLUSTER_DIR/follow.out" "^$index1 .*  entry one$" || fail "follow missed entry one"
in_file "$CLUSTER_DIR/follow.err" "cannot reach $(h "$leader"): connection refused" &&
    in_file "$CLUSTER_DIR/follow.err" "asking again in" ||
    fail "follow did not say it waits for the node: $(cat "$CLUSTER_DIR/follow.err")"
shows_on "$leader" "entry two" || fail "n$leader's copy after the restart"
echo "a restarted node catches up"

# ---- deregister, usage errors, help -------------------------------------------------------
s service deregister web-1 >/dev/null || fail "deregister web-1"
[ "$(s service show web --json | py '[e["Service"]["ID"] for e in d]')" = "['web-2']" ] ||
    fail "web-1 is still registered"
expect_exit 1 service deregister web-1
echo "$err" | grep -q 'no agent of --addr has an instance with this ID' || fail "deregister: $err"
expect_exit 2 service register
expect_exit 2 service register --name x --check-http http://a/ --check-tcp a:1
expect_exit 2 service register --name x --interval 1s
expect_exit 2 service register --name x --port 70000
expect_exit 2 service register "$CLUSTER_DIR/web-2.json" --name x
expect_exit 2 watch web
expect_exit 2 monitor --since x
expect_exit 2 log append
expect_exit 2 log append x --follow
for cmd in "service" "service register" "watch" "monitor" "log" "log show"; do
    # shellcheck disable=SC2086 # a command and its subcommand
    s $cmd --help | grep -q '^usage: synod ' || fail "synod $cmd --help"
done
bg_stop
cluster_stop
echo "PASS cli_registry"
