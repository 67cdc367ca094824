#!/usr/bin/env bash
# cli.sh: the synod CLI and the operator HTTP endpoints against three real agents on
# loopback: synod status (table and --json), a fourth node added as a learner, promoted and
# removed with synod members, synod leader transfer (sent to a follower first, so the CLI
# must find the leader), Consul's raft configuration and transfer-leader, Prometheus /metrics
# (checked line by line against the text format, histograms included), synod kv
# get/put/del/list, and the exit codes and messages of failures. Every CLI call and every wait
# is bounded.
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lib.sh

http_addrs() { # HOST:PORT of the HTTP port of nodes 1..N, comma-separated
    local list="" i
    for i in $(seq 1 "$1"); do
        list="${list:+$list,}127.0.0.1:$(http_port "$i")"
    done
    echo "$list"
}

s() { timeout 30 "$SYNOD" "$@"; } # the CLI, bounded

expect_exit() { # expect_exit CODE ARGS...: the CLI exits with CODE; its stderr in $err
    local want=$1 rc=0
    shift
    err=$(s "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = "$want" ] || fail "synod $* exited $rc, expected $want: $err"
}

status_json() { # status_json PYTHON-EXPR: evaluates EXPR on `synod status --json` as d
    s status --json | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
export SYNOD_HTTP_ADDR
SYNOD_HTTP_ADDR=$(http_addrs 3)
wait_write 1 10 || fail "no write within 10 s"

# ---- synod status ---------------------------------------------------------------------
out=$(s status) || fail "synod status failed"
echo "$out"
echo "$out" | grep -Eq '^node n1: (leader|follower), term [0-9]+, leader n[1-3]$' ||
    fail "no summary line"
echo "$out" | grep -Eq '^commit index [0-9]+, applied index [0-9]+' || fail "no index line"
[ "$(echo "$out" | grep -Ec '^n[1-3]( \(this node\))? +[0-9]+ +127\.0\.0\.1:[0-9]+ +voter ')" = 3 ] ||
    fail "the table does not list 3 voters"
[ "$(echo "$out" | grep -Ec ' voter +\* ')" = 1 ] || fail "not exactly one leader mark"
echo "$out" | grep -Eq '^n1 \(this node\) .* [0-9]+ +[0-9]+$' || fail "no match index and lag for n1"
[ "$(status_json 'len(d["members"])')" = 3 ] || fail "status --json: not 3 members"
[ "$(status_json 'sum(m["leader"] for m in d["members"])')" = 1 ] || fail "status --json: leaders"
[ "$(status_json 'all(isinstance(m["lag"], int) for m in d["members"])')" = True ] ||
    fail "status --json: lags are not numbers"
[ "$(status_json 'd["match_from"] == d["leader"] and d["node"] == "n1"')" = True ] ||
    fail "status --json: match indexes not from the leader"
leader=$(status_json 'd["leader"][1:]')
follower=$((leader % 3 + 1))
echo "leader n$leader, follower n$follower"
# a follower alone knows no match indexes: '-' in the table, null in JSON
out=$(s status --addr "127.0.0.1:$(http_port "$follower")") || fail "status of a follower"
echo "$out" | grep -q 'match indexes and lags unknown' || fail "unknown lags not said"
[ "$(s status --json --addr "127.0.0.1:$(http_port "$follower")" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["members"][0]["lag"])')" = None ] ||
    fail "a follower's lag is not null"
echo "status: ok"

# ---- Consul's raft configuration, and /metrics ----------------------------------------
conf=$(curl -s --max-time 10 "http://127.0.0.1:$(http_port 1)/v1/operator/raft/configuration")
python3 - "$conf" "$leader" <<'PY' || fail "raft configuration: $conf"
import json, sys
c = json.loads(sys.argv[1])
servers = c["Servers"]
assert len(servers) == 3 and isinstance(c["Index"], int) and c["Index"] > 0
assert [s["Node"] for s in servers if s["Leader"]] == ["n" + sys.argv[2]]
assert all(s["Voter"] and s["ProtocolVersion"] == "3" and s["ID"].isdigit() for s in servers)
PY
metrics="$CLUSTER_DIR/metrics"
curl -s -D "$CLUSTER_DIR/metrics.head" --max-time 10 "http://127.0.0.1:$(http_port "$leader")/metrics" \
    >"$metrics" || fail "GET /metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$CLUSTER_DIR/metrics.head" ||
    fail "/metrics Content-Type: $(cat "$CLUSTER_DIR/metrics.head")"
for line in 'synod_raft_is_leader 1' 'synod_raft_members{role="voter"} 3' 'synod_serving 1' \
    "synod_raft_member_lag{member=\"n$follower\"} "; do
    grep -qF "$line" "$metrics" || fail "/metrics lacks '$line'"
done
grep -Eq '^synod_raft_commit_index [1-9][0-9]*$' "$metrics" || fail "/metrics: commit index"
grep -Eq '^synod_http_requests_total [1-9][0-9]*$' "$metrics" || fail "/metrics: requests"
python3 - "$metrics" <<'PY' || fail "/metrics is not the text format"
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample = re.compile(r"^(%s)(\{%s=\"(\\.|[^\"\\])*\"(,%s=\"(\\.|[^\"\\])*\")*\})? -?[0-9.e+]+$"
                    % (name, name, name))
typed, helped, buckets, counts = {}, set(), {}, {}
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, fam, kind = line.split()
        assert fam not in typed and kind in ("gauge", "counter", "histogram"), line
        typed[fam] = kind
    else:
        m = sample.match(line)
        assert m, "bad sample line: " + line
        fam = m.group(1)
        for suffix in ("_bucket", "_sum", "_count"):  # a histogram's series
            base = fam[: -len(suffix)]
            if fam.endswith(suffix) and typed.get(base) == "histogram":
                fam = base
                value = float(line.rsplit(" ", 1)[1])
                if suffix == "_bucket":  # cumulative, in order of le, ending at +Inf
                    assert value >= buckets.get(base, [0])[-1], "bucket decreases: " + line
                    buckets.setdefault(base, []).append(value)
                    assert ('le="+Inf"' in line) == (len(buckets[base]) == 17), line
                elif suffix == "_count":
                    counts[base] = value
                break
        assert fam in typed and fam in helped, "no TYPE/HELP before " + line
hist = [f for f, k in typed.items() if k == "histogram"]
assert sorted(hist) == ["synod_store_commit_duration_seconds", "synod_wal_fsync_duration_seconds"], hist
for f in hist:
    assert buckets[f][-1] == counts[f] > 0, (f, buckets[f][-1], counts.get(f))
PY
echo "raft configuration and metrics: ok"

# ---- synod members: a fourth node, learner, voter, removed ------------------------------
node_start 4 3 --join
# sent to a follower first: the CLI has to find the leader
leader_first="127.0.0.1:$(http_port "$follower"),127.0.0.1:$(http_port "$leader")"
out=$(s members add n4 "127.0.0.1:$(peer_port 4)" --learner --addr "$leader_first") ||
    fail "members add: $out"
echo "$out"
echo "$out" | grep -q 'adding as a learner accepted by the leader' || fail "members add said: $out"
expect_exit 1 members add n4 "127.0.0.1:$(peer_port 4)"
echo "$err" | grep -q 'already a member' || fail "adding n4 twice said: $err"
learner_ok() {
    [ "$(status_json '[m["voter"] for m in d["members"] if m["name"] == "n4"]')" = "[False]" ] &&
        [ "$(status_json '[m["lag"] for m in d["members"] if m["name"] == "n4"][0] or 0')" = 0 ]
}
wait_until 20 learner_ok || fail "n4 did not catch up as a learner: $(s status)"
s members | grep -Eq '^n4 .* learner ' || fail "synod members does not show learner n4"
echo "n4 caught up as a learner"
promote() { s members promote n4 >/dev/null 2>&1; }
wait_until 10 promote || fail "members promote n4"
voter_ok() { [ "$(status_json '[m["voter"] for m in d["members"] if m["name"] == "n4"]')" = "[True]" ]; }
wait_until 10 voter_ok || fail "n4 is not a voter"
SYNOD_HTTP_ADDR=$(http_addrs 4)
remove() { s members remove n4 --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["ok"]'; }
wait_until 10 remove || fail "members remove n4"
gone() { [ "$(status_json 'len(d["members"])')" = 3 ]; }
wait_until 10 gone || fail "n4 is still a member"
node_kill 4
SYNOD_HTTP_ADDR=$(http_addrs 3)
expect_exit 1 members remove n4
echo "$err" | grep -q 'no such member' || fail "removing n4 twice said: $err"
echo "members: ok"

# ---- synod leader transfer, and Consul's transfer-leader --------------------------------
leader=$(status_json 'd["leader"][1:]')
target=$((leader % 3 + 1))
out=$(s leader transfer "n$target" --addr "127.0.0.1:$(http_port "$target"),$(http_addrs 3)") ||
    fail "leader transfer: $out"
echo "$out"
leads() { [ "$(status_json 'd["leader"]' 2>/dev/null)" = "n$1" ]; }
wait_until 10 leads "$target" || fail "n$target did not become the leader"
id=$(curl -s --max-time 10 "http://127.0.0.1:$(http_port 1)/v1/operator/raft/configuration" |
    python3 -c "import json,sys; print([s['ID'] for s in json.load(sys.stdin)['Servers'] if s['Node'] == 'n$leader'][0])")
code=$(curl -s -o "$CLUSTER_DIR/t.out" -w '%{http_code}' --max-time 10 -X POST \
    "http://127.0.0.1:$(http_port "$leader")/v1/operator/raft/transfer-leader?id=$id")
[ "$code" = 421 ] || fail "transfer-leader on a follower: $code $(cat "$CLUSTER_DIR/t.out")"
grep -q "\"leader\":\"n$target\"" "$CLUSTER_DIR/t.out" || fail "421 does not name the leader"
[ "$(curl -s --max-time 10 -X POST \
    "http://127.0.0.1:$(http_port "$target")/v1/operator/raft/transfer-leader?id=$id")" = \
    '{"Success":true,"leader":"n'"$target"'"}' ] || fail "Consul's transfer-leader"
wait_until 10 leads "$leader" || fail "n$leader did not lead again"
expect_exit 1 leader transfer n9
echo "$err" | grep -q 'no such member' || fail "transfer to n9 said: $err"
echo "leader transfer: ok"

# ---- synod kv -----------------------------------------------------------------------------
[ "$(s kv put greeting hello)" = "greeting: written" ] || fail "kv put"
[ "$(s kv get greeting --addr "127.0.0.1:$(http_port 3)")" = hello ] || fail "kv get on n3"
printf 'two\nlines' | s kv put app/b - >/dev/null || fail "kv put from stdin"
s kv put app/a 1 --flags 42 >/dev/null || fail "kv put --flags"
[ "$(s kv list app/)" = "$(printf 'app/a\napp/b')" ] || fail "kv list: $(s kv list app/)"
s kv list app/ --values | grep -Eq '^app/b +0 +two\\nlines$' || fail "kv list --values"
s kv list app/ --values | grep -Eq '^app/a +42 +1$' || fail "kv list --values flags"
modify=$(s kv get app/a --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ModifyIndex"])')
expect_exit 1 kv put app/a 2 --cas $((modify + 1000))
echo "$err" | grep -q 'not written' || fail "a failed --cas said: $err"
s kv put app/a 2 --cas "$modify" >/dev/null || fail "kv put --cas with the right index"
stale_read() { [ "$(s kv get app/a --stale --addr "127.0.0.1:$(http_port 2)")" = 2 ]; }
wait_until 5 stale_read || fail "kv get --stale" # n2 may apply the write a little later
expect_exit 1 kv get absent
[ "$err" = "synod: absent: not found" ] || fail "kv get absent said: $err"
s kv del app --recurse >/dev/null || fail "kv del --recurse"
[ -z "$(s kv list app/)" ] || fail "keys left after del --recurse"
[ "$(s kv list app/ --json)" = "[]" ] || fail "kv list --json of nothing"
s kv del greeting >/dev/null || fail "kv del"
expect_exit 1 kv get greeting
echo "kv: ok"

# ---- usage and unreachable nodes ----------------------------------------------------------
for args in "kv" "kv get" "kv frob" "members add n5" "status extra" "leader" "kv get k --values" \
    "status --timeout 0"; do
    # shellcheck disable=SC2086 # a list of words
    expect_exit 2 $args
done
s status --help | grep -q -- '--json' || fail "status --help"
s kv put --help | grep -q -- '--cas' || fail "kv put --help"
s members add --help | grep -q -- '--learner' || fail "members add --help"
s leader transfer --help | grep -q 'transfer' || fail "leader transfer --help"
expect_exit 1 status --addr 127.0.0.1:1 --timeout 2000
[ "$err" = "synod: cannot reach 127.0.0.1:1: connection refused" ] || fail "unreachable said: $err"
expect_exit 1 leader transfer n1 --addr 127.0.0.1:1,127.0.0.1:2 --timeout 300
echo "$err" | grep -q 'cannot reach any node' || fail "unreachable leader said: $err"
echo "usage and failures: ok"
echo "cli: ok"
