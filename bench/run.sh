#!/usr/bin/env bash
# run.sh: the benchmarks with real agents, one after the other, then every target line again
# in one summary. `make bench` runs it after the in-memory Raft core bench; `make bench-full`
# runs it with --full. Figures go to docs/performance.md.
#
#   bench/run.sh [--full]
#     quick (default): resp_vs_redis.sh (3 runs of 20,000 requests per test), failover.sh
#                      (10 kills, 60 s of steady load), memory.sh (100,000 and 1,000,000 keys),
#                      etcd_vs_synod.sh --quick (1 run of 5 s per test),
#                      lb_vs_haproxy.sh --quick (1 run of 5 s per target, 1 kill per setup),
#                      dns_perf.sh --quick (1 run of 5 s per node and client count)
#     --full:          resp_vs_redis.sh --full (200,000 requests per test), failover.sh --long
#                      (300 s of steady load), memory.sh --restarts 5, etcd_vs_synod.sh (3 runs
#                      of 10 s per test), lb_vs_haproxy.sh (3 runs of 10 s, 3 kills per setup),
#                      dns_perf.sh (3 runs of 10 s)
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build}

resp_args=() failover_args=() memory_args=() etcd_args=(--quick)
lb_args=(--quick) dns_args=(--quick)
if [ "${1:-}" = --full ]; then
    resp_args=(--full) failover_args=(--long) memory_args=(--restarts 5) etcd_args=()
    lb_args=() dns_args=()
elif [ $# -gt 0 ]; then
    echo "usage: bench/run.sh [--full]" >&2
    exit 2
fi

log=$(mktemp /tmp/synod-bench-run-XXXXXX)
trap 'rm -f "$log"' EXIT
failed=()
run() { # run SCRIPT ARGS...
    echo
    bench/"$1" "${@:2}" 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || failed+=("$1")
}
run resp_vs_redis.sh "${resp_args[@]}"
run failover.sh "${failover_args[@]}"
run memory.sh "${memory_args[@]}"
run etcd_vs_synod.sh "${etcd_args[@]}"
run lb_vs_haproxy.sh "${lb_args[@]}"
run dns_perf.sh "${dns_args[@]}"

echo
echo "== summary"
grep -E '^(target|errors|elections|failover|steady load):' "$log"
if [ ${#failed[@]} -gt 0 ]; then
    echo "benchmarks with errors (failed requests, replicas that differ, or a setup failure):" \
        "${failed[*]}"
    exit 1
fi
