#!/usr/bin/env bash
# dev.sh: `synod dev` end to end, as a user runs it: --help; a 3-node cluster that says it is
# ready; a write on one node read on another (redis-cli, curl, synod kv); the leader killed
# with SIGKILL, reported, and writes still taken by the others; SIGINT stops it (exit 0, no
# agent left); started again on the same data (--json) it recovers, and SIGTERM stops it;
# another cluster on the same data is refused. Its own ports (--port-offset, retried when
# taken) and a temporary --data-dir.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

DEV_DIR=$CLUSTER_DIR # n1.log ... land where fail() shows them
DEV_OUT=$CLUSTER_DIR/dev.out
DEV_ERR=$CLUSTER_DIR/dev.err
DEV_PID=
OFFSET=
declare -a AGENT_PID

dev_cleanup() { # stops synod dev and its agents, whatever state the test left them in
    local pid deadline=$((SECONDS + 10))
    if [ -n "$DEV_PID" ] && kill -0 "$DEV_PID" 2>/dev/null; then
        kill -TERM "$DEV_PID" 2>/dev/null
        while kill -0 "$DEV_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        kill -9 "$DEV_PID" 2>/dev/null
    fi
    [ -n "$DEV_PID" ] && wait "$DEV_PID" 2>/dev/null
    DEV_PID=
    for pid in "${AGENT_PID[@]:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
}
trap 'dev_cleanup; cluster_stop' EXIT

resp() { echo $((6000 + OFFSET + $1)); } # node I's ports under synod dev
http() { echo $((8500 + OFFSET + $1)); }
dcli() { # dcli I ARGS...: redis-cli against node I, 5 s at most
    local i=$1
    shift
    timeout 5 redis-cli -p "$(resp "$i")" "$@"
}

dev_start() { # dev_start [FLAGS]: synod dev in the background, on DEV_DIR and OFFSET
    : >"$DEV_OUT"
    : >"$DEV_ERR"
    "$SYNOD" dev --data-dir "$DEV_DIR" --port-offset "$OFFSET" --wait 30 "$@" \
        >"$DEV_OUT" 2>"$DEV_ERR" &
    DEV_PID=$!
}

dev_wait_ready() { # until synod dev reports ready (0), or exits or 40 s pass (1)
    local deadline=$((SECONDS + 40))
    while [ $SECONDS -lt $deadline ]; do
        grep -q '"ready":true\|^synod dev: ready' "$DEV_OUT" && return 0
        kill -0 "$DEV_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

DEV_RC=
dev_exit() { # dev_exit SECONDS: waits for synod dev to exit, its status in DEV_RC; 1 if it
    # still runs. (Not in a $(...): only this shell can wait for its child.)
    local deadline=$((SECONDS + $1))
    while kill -0 "$DEV_PID" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
    wait "$DEV_PID"
    DEV_RC=$?
    DEV_PID=
}

agents_gone() {
    local i
    for i in 1 2 3; do
        kill -0 "${AGENT_PID[$i]}" 2>/dev/null && return 1
    done
    return 0
}

show_dev() {
    echo "--- synod dev stdout"
    cat "$DEV_OUT"
    echo "--- synod dev stderr"
    cat "$DEV_ERR"
}

# --help, and a usage error.
"$SYNOD" dev --help | grep -q -- '--port-offset' || fail "synod dev --help"
"$SYNOD" dev --nodes 9 2>/dev/null
[ $? = 2 ] || fail "synod dev --nodes 9 should be a usage error (exit 2)"

# Start; ports of another test or program mean another offset (synod dev names the port).
for attempt in 1 2 3 4 5 6 7 8; do
    OFFSET=$((9000 + (RANDOM % 240) * 10)) # ports 15001-19907: below lib.sh's, and the kernel's
    dev_start
    dev_wait_ready && break
    dev_exit 15
    grep -q 'in use' "$DEV_ERR" || { show_dev; fail "synod dev did not get ready"; }
    say "ports at offset $OFFSET are taken; attempt $attempt failed"
    rm -rf "${DEV_DIR:?}"/n[0-9]* "$DEV_DIR/synod-dev.conf"
    [ "$attempt" = 8 ] && fail "no free ports for synod dev"
done
show_dev
leader=$(sed -n 's/^synod dev: ready: .*leader n\([0-9]\).*/\1/p' "$DEV_OUT")
[ -n "$leader" ] || fail "no leader in synod dev's ready line"
for i in 1 2 3; do
    AGENT_PID[i]=$(awk -v n="n$i" '$1 == n { print $2 }' "$DEV_OUT")
    [ -n "${AGENT_PID[$i]}" ] && kill -0 "${AGENT_PID[$i]}" || fail "no pid for n$i"
done
say "ready on offset $OFFSET: leader n$leader, agents ${AGENT_PID[*]}"

[ "$(dcli 1 SET greeting hello)" = OK ] || fail "SET on n1"
[ "$(dcli 2 GET greeting)" = hello ] || fail "GET on n2 did not read n1's write"
[ "$(timeout 5 curl -s "http://127.0.0.1:$(http 3)/v1/status/leader")" = \
    "\"127.0.0.1:$((7000 + OFFSET + leader))\"" ] || fail "n3's /v1/status/leader"
say "a write on n1 is read on n2; n3 names n$leader"

# The other ways in that the report shows: curl on the KV API, and synod kv with the
# SYNOD_HTTP_ADDR it prints for these ports.
timeout 5 curl -s -f -X PUT -d world "http://127.0.0.1:$(http 1)/v1/kv/planet" >/dev/null ||
    fail "curl PUT /v1/kv/planet on n1"
[ "$(timeout 5 curl -s -f "http://127.0.0.1:$(http 2)/v1/kv/planet?raw")" = world ] ||
    fail "curl GET /v1/kv/planet?raw on n2"
export_line=$(grep -o 'export SYNOD_HTTP_ADDR=[0-9.:,]*' "$DEV_OUT") ||
    fail "no SYNOD_HTTP_ADDR line for ports other than the default"
eval "$export_line"
timeout 10 "$SYNOD" kv put moon cheese >/dev/null || fail "synod kv put"
[ "$(timeout 10 "$SYNOD" kv get moon)" = cheese ] || fail "synod kv get"
[ "$(dcli 3 GET moon)" = cheese ] || fail "n3 does not read synod kv's write"
timeout 10 "$SYNOD" status >/dev/null || fail "synod status"
say "curl, synod kv and synod status work as printed"

# Kill the leader: synod dev reports it and carries on, the others elect and take writes.
kill -9 "${AGENT_PID[$leader]}"
wait_until 10 grep -q "n$leader exited (signal 9)" "$DEV_ERR" || fail "the kill was not reported"
kill -0 "$DEV_PID" || fail "synod dev stopped when one agent died"
a=$((leader % 3 + 1))
b=$((a % 3 + 1))
write_ok() { [ "$(dcli "$1" SET after-kill yes 2>/dev/null)" = OK ]; }
wait_until 15 write_ok "$a" || fail "no write through n$a within 15 s of killing n$leader"
[ "$(dcli "$b" GET after-kill)" = yes ] || fail "n$b did not read the write after the kill"
say "n$leader killed and reported; n$a and n$b took a write"

# Ctrl-C: every agent stops, synod dev exits 0 and says the data is kept.
kill -INT "$DEV_PID"
dev_exit 15 || fail "synod dev still runs 15 s after SIGINT"
[ "$DEV_RC" = 0 ] || { show_dev; fail "synod dev exited $DEV_RC after SIGINT, not 0"; }
agents_gone || fail "agents still run after synod dev stopped"
grep -q 'stopped; data and logs kept' "$DEV_ERR" || fail "no 'stopped' line"
say "SIGINT: synod dev exited 0 and no agent is left"

# Again on the same data, with --json: it recovers; SIGTERM stops it.
dev_start --json
dev_wait_ready || { show_dev; fail "the restarted synod dev did not get ready"; }
python3 - "$DEV_OUT" <<'PY' || fail "the --json report"
import json, sys
report = json.loads(open(sys.argv[1]).read())
assert report["ready"] is True, report
assert [n["name"] for n in report["nodes"]] == ["n1", "n2", "n3"], report
assert report["leader"] in ("n1", "n2", "n3"), report
PY
for i in 1 2 3; do
    AGENT_PID[i]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nodes"][int(sys.argv[2])]["pid"])' "$DEV_OUT" $((i - 1)))
done
[ "$(dcli 3 GET greeting)" = hello ] || fail "the restarted cluster lost greeting"
[ "$(dcli "$leader" GET after-kill)" = yes ] || fail "restarted n$leader did not catch up"
kill -TERM "$DEV_PID"
dev_exit 15 || fail "synod dev still runs 15 s after SIGTERM"
[ "$DEV_RC" = 0 ] || fail "synod dev exited $DEV_RC after SIGTERM, not 0"
agents_gone || fail "agents still run after SIGTERM"
say "restarted with --json: recovered, and SIGTERM stopped it"

# The same data with another cluster shape is refused, before anything starts.
"$SYNOD" dev --data-dir "$DEV_DIR" --port-offset "$OFFSET" --nodes 1 2>"$DEV_ERR"
[ $? = 1 ] || fail "another --nodes on the same data should fail"
grep -q 'holds another cluster' "$DEV_ERR" || fail "no reason given for refusing the data"
echo "dev: ok"
