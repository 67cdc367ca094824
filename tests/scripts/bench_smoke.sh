#!/usr/bin/env bash
# bench_smoke.sh: the Raft benchmark still runs (--quick) and every configuration commits
# something. It checks that figures are produced, never how fast: speed is not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin=$BUILD/bench/raft_bench
out=$("$bin" --quick --json)
echo "$out"
rates=$(echo "$out" | grep -o '"proposals_per_sec": [0-9.]*' | awk '{print $2}')
count=$(echo "$rates" | grep -c . || true)
if [ "$count" -ne 6 ]; then
    echo "bench_smoke: expected 6 configurations, got $count" >&2
    exit 1
fi
if echo "$rates" | awk '$1 <= 0 { bad = 1 } END { exit !bad }'; then
    echo "bench_smoke: a configuration reported no throughput" >&2
    exit 1
fi
echo "bench_smoke: 6 configurations, each with nonzero throughput"
