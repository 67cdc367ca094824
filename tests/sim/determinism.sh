#!/usr/bin/env bash
# determinism.sh: one seed is one run, step for step: the same seed twice gives
# byte-identical traces, and different seeds give different runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin="$BUILD/synod"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0

for spec in "1 3" "7 5" "42 7" "1234 3" "99991 5"; do
    set -- $spec
    "$bin" sim --seed "$1" --nodes "$2" --trace >"$dir/a" 2>&1
    rc_a=$?
    "$bin" sim --seed "$1" --nodes "$2" --trace >"$dir/b" 2>&1
    rc_b=$?
    if [ "$rc_a" -ne "$rc_b" ] || ! cmp -s "$dir/a" "$dir/b"; then
        echo "FAIL: seed $1 ($2 nodes) ran differently twice (exit $rc_a vs $rc_b):"
        diff "$dir/a" "$dir/b" | head -n 10
        status=1
    else
        echo "ok: seed $1 ($2 nodes): $(wc -l <"$dir/a") identical trace lines twice"
    fi
    cp "$dir/a" "$dir/seed-$1"
done

differ=0
for pair in "1 1234" "7 99991"; do
    set -- $pair
    "$bin" sim --seed "$2" --nodes "$(sed -n 's/.*seed [0-9]*: \([0-9]\) nodes.*/\1/p' "$dir/seed-$1" | head -n 1)" \
        --trace >"$dir/other" 2>&1
    if cmp -s "$dir/seed-$1" "$dir/other"; then
        echo "FAIL: seeds $1 and $2 gave the same trace"
        status=1
    else
        differ=$((differ + 1))
    fi
done
echo "ok: $differ pairs of different seeds gave different traces"
exit "$status"
