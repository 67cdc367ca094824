#!/usr/bin/env bash
# seeds.sh: runs thousands of simulator seeds over 3, 5 and 7 nodes and the swarm's fault
# mixes, in two processes over disjoint seed ranges. SIM_SEEDS overrides the count and
# SIM_FROM the first seed (e.g. to explore new seeds locally).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SAN=${SAN:-0}
if [ "$SAN" = 1 ]; then
    default=600 # the sanitizer build is about five times slower
else
    default=20000
fi
total=${SIM_SEEDS:-$default}
from=${SIM_FROM:-1}
half=$(((total + 1) / 2))
logs=("$BUILD/sim-seeds-1.log" "$BUILD/sim-seeds-2.log")

"$BUILD/synod" sim --seeds "$half" --from "$from" --nodes 3,5,7 >"${logs[0]}" 2>&1 &
first=$!
"$BUILD/synod" sim --seeds "$((total - half))" --from "$((from + half))" --nodes 3,5,7 \
    >"${logs[1]}" 2>&1 &
second=$!
status=0
wait "$first" || status=$?
rc=0
wait "$second" || rc=$?
[ "$status" -eq 0 ] && status=$rc
cat "${logs[@]}"
if [ "$status" -ne 0 ]; then
    echo "seeds.sh: a seed failed (exit $status); its replay command is printed above"
fi
exit "$status"
