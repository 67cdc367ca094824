#!/usr/bin/env bash
# mutants.sh: the simulator must catch each deliberately broken Raft rule (STYLE 15) within
# 1,000 seeds, with exit status 1 and a named violation, not a crash. A violation counts only
# if the same seed passes without the mutant. A build without the mutants refuses --mutant
# with a usage error.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin=build/mutants/synod
seeds=1000
status=0

"$BUILD/synod" sim --seed 1 --mutant double-vote >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 2 ]; then
    echo "FAIL: $BUILD/synod sim --mutant without SYN_MUTANTS exits $rc, expected 2"
    status=1
fi

# catch MUTANT: scans seeds 1..$seeds; prints the violation that the mutant alone causes.
catch() {
    local m=$1 from=1 out rc seed nodes
    while [ "$from" -le "$seeds" ]; do
        out=$("$bin" sim --seeds $((seeds - from + 1)) --from "$from" --nodes 3,5,7 --mutant "$m" 2>&1)
        rc=$?
        if [ "$rc" -eq 0 ]; then
            echo "FAIL: mutant $m survived seeds 1..$seeds"
            return 1
        fi
        if [ "$rc" -ne 1 ] || ! grep -q 'VIOLATION' <<<"$out"; then
            echo "FAIL: mutant $m: exit $rc without a VIOLATION line (a crash?)"
            tail -n 5 <<<"$out"
            return 1
        fi
        seed=$(sed -n 's/.*VIOLATION.* at seed \([0-9]*\) (\([0-9]*\) nodes).*/\1/p' <<<"$out" | head -n 1)
        nodes=$(sed -n 's/.*VIOLATION.* at seed \([0-9]*\) (\([0-9]*\) nodes).*/\2/p' <<<"$out" | head -n 1)
        if "$bin" sim --seed "$seed" --nodes "$nodes" >/dev/null 2>&1; then
            echo "ok: $m caught: $(grep -m1 'VIOLATION' <<<"$out" | sed 's/^synod sim: //')"
            grep -m1 '^  [^r]' <<<"$out"
            grep -m1 'replay:' <<<"$out"
            return 0
        fi
        echo "   ($m: seed $seed fails without the mutant too; scanning on)"
        from=$((seed + 1))
    done
    echo "FAIL: mutant $m survived seeds 1..$seeds"
    return 1
}

for m in double-vote commit-old-term ack-unpersisted no-log-check; do
    catch "$m" || status=1
done
exit "$status"
