#!/usr/bin/env bash
# lincheck_rejects.sh: `synod lincheck` rejects histories that are not linearizable and
# accepts those that are, with the exit codes and output the cluster tests rely on:
#   - hand-made classics: a stale read, a lost update through cas, a value read before it was
#     written, a failed write whose value is read, a value that comes back after being
#     overwritten; and linearizable ones with unknown outcomes that did and did not apply;
#   - a history recorded from a real three-node cluster passes, and the same history with
#     one read turned stale (a value overwritten before the read began) is rejected;
#   - a search over its budget is undecided (exit 2, never a pass), and malformed input is
#     refused (exit 2) with its line.
cd "$(dirname "$0")/../.." || exit 2
. tests/cluster/lib.sh

H=$CLUSTER_DIR
expect() { # expect EXIT FILE [lincheck options]: synod lincheck exits EXIT on FILE
    local want=$1 file=$2 rc=0
    shift 2
    "$SYNOD" lincheck "$@" "$file" >"$file.out" 2>&1 || rc=$?
    sed 's/^/    /' "$file.out"
    [ "$rc" = "$want" ] || fail "lincheck $* $(basename "$file"): exit $rc, expected $want"
}

case_file() { # case_file NAME: the history on stdin, into $H/NAME
    cat >"$H/$1"
    echo "$H/$1"
}

echo "--- not linearizable"
f=$(case_file stale-read <<'EOF'
c1 x write a 10 20 ok
c2 x write b 30 40 ok
c3 x read a 50 60 ok
EOF
)
expect 1 "$f"
grep -q "key x is not linearizable: the op on line 3 (client c3: read -> a" "$f.out" ||
    fail "the stale read is not named"
grep -q '^>      3: c3 x read a 50 60 ok' "$f.out" || fail "the excerpt does not mark line 3"

f=$(case_file lost-update <<'EOF'
# both swaps from a succeed: one of them must have seen the other's value
c1 x write a 0 10 ok
c2 x cas a b 20 30 ok swapped
c3 x cas a c 40 50 ok swapped
EOF
)
expect 1 "$f"

f=$(case_file read-before-write <<'EOF'
c1 y read v 0 10 ok
c2 y write v 20 30 ok
EOF
)
expect 1 "$f"

f=$(case_file failed-write-read <<'EOF'
c1 z write v 0 10 fail
c2 z read v 20 30 ok
EOF
)
expect 1 "$f"

f=$(case_file comes-back <<'EOF'
c1 k write 1 0 10 ok
c2 k write 2 20 30 ok
c3 k read 2 40 50 ok
c4 k read 1 60 70 ok
EOF
)
expect 1 "$f"

f=$(case_file json-violation <<'EOF'
c1 "odd%20key" write 1 0 10 ok
c2 "odd%20key" read - 20 30 ok
EOF
)
expect 1 "$f" --json
python3 - "$f.out" <<'PY' || fail "the --json verdict is wrong"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["verdict"] == "violation", v
assert v["key"] == "%22odd%20key%22", v  # quotes are escaped, as in a file
assert v["line"] == 2, v
assert [e["line"] for e in v["excerpt"]] == [1, 2], v
PY

echo "--- linearizable"
f=$(case_file concurrent <<'EOF'
c1 x write a 0 100 ok
c2 x read a 10 20 ok
c3 x read - 5 15 ok
c2 x cas a b 30 200 ok swapped
c3 x cas a c 40 50 ok kept
c3 x read b 300 310 ok
c1 x write lost 400 - unknown
c1 x write applied 500 - unknown
c2 x read applied 600 610 ok
c1 x write never 620 630 fail
c2 x read applied 700 710 ok
EOF
)
expect 0 "$f"
grep -q "verdict: ok: linearizable" "$f.out" || fail "no ok verdict"

echo "--- undecided and malformed"
# 18 writes, all concurrent, then a read of a value nobody wrote: the search must try every
# order of the writes before it can say no, which is far more than 1,000 steps.
{
    for w in $(seq 1 18); do echo "c$w x write w$w 0 1000 ok"; done
    echo "r x read never 2000 2001 ok"
} >"$H/budget"
expect 2 "$H/budget" --steps 1000
grep -q "verdict: unknown" "$H/budget.out" || fail "no unknown verdict"
printf 'c1 x write a 10 5 ok\n' >"$H/bad-times"
expect 2 "$H/bad-times"
grep -q "bad-times:1: an ok op must complete after it was invoked" "$H/bad-times.out" ||
    fail "no line for the bad times"
expect 2 "$H/does-not-exist"

echo "--- a real cluster's history, and the same with one read turned stale"
cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
workload_start --duration 2 --clients 4 --keys 2 --ack-writers 0
workload_wait
expect 0 "$H/history.txt"
python3 - "$H/history.txt" "$H/mutant.txt" <<'PY' || fail "no read to turn stale"
# Find a completed read R, and two completed writes W1, W2 on its key (W1 before W2 before R,
# in real time); make R return W1's value. Values are unique, so only W1 writes it and W2
# overwrote it before R began: no order explains R any more.
import sys
lines = open(sys.argv[1]).read().splitlines()
ops = []
for n, line in enumerate(lines):
    f = line.split()
    if f and not f[0].startswith("#") and f[-1] == "ok" and f[2] in ("read", "write"):
        ops.append((n, f[1], f[2], f[3], int(f[4]), int(f[5])))
writes = [o for o in ops if o[2] == "write" and o[3] != "-"]
for n, key, kind, value, t0, t1 in reversed(ops):
    if kind != "read":
        continue
    before = [w for w in writes if w[1] == key and w[5] < t0]
    for w1 in before:
        if any(w2[4] > w1[5] and w2[5] < t0 for w2 in before) and w1[3] != value:
            f = lines[n].split()
            f[3] = w1[3]
            lines[n] = " ".join(f)
            open(sys.argv[2], "w").write("\n".join(lines) + "\n")
            print("line %d: the read of %s now returns %s" % (n + 1, value, w1[3]))
            sys.exit(0)
sys.exit(1)
PY
expect 1 "$H/mutant.txt"
grep -q "is not linearizable" "$H/mutant.txt.out" || fail "the stale read was not found"
echo "lincheck_rejects: ok"
