#!/usr/bin/env bash
# resp_vs_redis.sh: synod's RESP port against redis-server, side by side in one run on one
# machine with one client (redis-benchmark). Three synod agents on loopback with fsync on;
# one redis-server with appendonly yes and appendfsync always, as durable per reply. For 1, 16
# and 64 connections: SET, then GET, of 128-byte values on 10,000 random keys, against redis,
# the synod leader and a synod follower (which forwards writes to the leader and reads through
# ReadIndex), interleaved, RUNS times; each figure is the median of the runs.
#
# Errors: redis-benchmark exits at the first error reply; an invocation that fails counts one,
# and the node's INFO total_error_replies before and after counts every error reply it sent,
# and a node that processed fewer commands than were sent counts the shortfall. After each SET
# run on synod, a sample of 100 keys is read on all three nodes: the values must be identical.
#
#   bench/resp_vs_redis.sh [--full] [--runs N] [--requests N] [--requests-c1 N]
#     quick (default): 3 runs, 20,000 requests per test, 5,000 at 1 connection
#     --full:          3 runs, 200,000 requests per test, 20,000 at 1 connection (a single
#                      connection does ~700 synchronous fsynced SETs/s: 200,000 would take
#                      5 minutes per test)
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=3
REQUESTS=20000
REQUESTS_C1=5000
CONNS="1 16 64"
MAX_S=1500
while [ $# -gt 0 ]; do
    case "$1" in
    --full) REQUESTS=200000 REQUESTS_C1=20000 MAX_S=7200 ;;
    --runs) RUNS=$2 && shift ;;
    --requests) REQUESTS=$2 && shift ;;
    --requests-c1) REQUESTS_C1=$2 && shift ;;
    *) echo "usage: bench/resp_vs_redis.sh [--full] [--runs N] [--requests N] [--requests-c1 N]" >&2
        exit 2 ;;
    esac
    shift
done

bench_setup resp "$MAX_S"
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -A RPS P50 CPU BUSY ERRS
ERRS[redis]=0 ERRS[leader]=0 ERRS[follower]=0
SAMPLES_OK=0 SAMPLES=0 INVOCATIONS=0

echo "== resp_vs_redis: redis-benchmark -t set|get -d 128 -r 10000, $RUNS runs," \
    "$REQUESTS requests per test ($REQUESTS_C1 at 1 connection)"
bench_machine

cluster_start
redis_start
LEADER=$(wait_stable_leader 20) || bench_die "no stable leader within 20 s"
FOLLOWER=$(first_follower "$LEADER")
TERM0=$(raft_field "$LEADER" term)
echo "cluster: 3 agents, leader n$LEADER, follower under test n$FOLLOWER, term $TERM0"

target_port() { # target_port TARGET
    case "$1" in
    redis) redis_port ;;
    leader) resp_port "$LEADER" ;;
    follower) resp_port "$FOLLOWER" ;;
    esac
}

target_cpu() { # target_cpu TARGET: CPU ticks of the processes serving it (all 3 agents)
    local t=0 i
    if [ "$1" = redis ]; then
        cpu_ticks "$REDIS_PID"
        return
    fi
    for i in $(seq 1 "$NODE_COUNT"); do
        t=$((t + $(cpu_ticks "${PIDS[$i]}")))
    done
    echo "$t"
}

# check_sample TARGET: 100 keys of the SET run read on every node must be identical on all three.
check_sample() {
    local i sums=()
    for i in $(seq 1 "$NODE_COUNT"); do
        seq 0 100 9999 | awk '{printf "GET key:%012d\n", $1}' |
            rcli "$i" >"$BENCH_DIR/sample.n$i" 2>&1
        sums+=("$(md5sum <"$BENCH_DIR/sample.n$i" | cut -c1-32)")
    done
    SAMPLES=$((SAMPLES + 1))
    local present
    present=$(grep -c . "$BENCH_DIR/sample.n1")
    if [ "${sums[0]}" = "${sums[1]}" ] && [ "${sums[1]}" = "${sums[2]}" ] &&
        ! grep -q ERR "$BENCH_DIR/sample.n1" && [ "$present" -gt 0 ]; then
        SAMPLES_OK=$((SAMPLES_OK + 1))
        echo "    sample: $present of 100 keys set, identical on n1 n2 n3"
    else
        echo "    sample: MISMATCH between nodes (or unreadable): see $BENCH_DIR/sample.n*"
        ERRS[$1]=$((ERRS[$1] + 1))
    fi
}

# run_one TARGET OP CONNS RUN
run_one() {
    local target=$1 op=$2 c=$3 run=$4 port n out rc e0 e1 p0 p1 c0 c1 m0 m1 rps p50 errs=0
    port=$(target_port "$target")
    n=$REQUESTS
    [ "$c" = 1 ] && n=$REQUESTS_C1
    e0=$(info_field "$port" total_error_replies)
    p0=$(info_field "$port" total_commands_processed)
    c0=$(target_cpu "$target")
    m0=$(cpu_jiffies)
    out=$(timeout $((60 + n / 100)) redis-benchmark -h 127.0.0.1 -p "$port" -t "$op" -d 128 \
        -r 10000 -n "$n" -c "$c" --csv 2>&1)
    rc=$?
    m1=$(cpu_jiffies)
    c1=$(target_cpu "$target")
    e1=$(info_field "$port" total_error_replies)
    p1=$(info_field "$port" total_commands_processed)
    INVOCATIONS=$((INVOCATIONS + 1))
    local OP=${op^^}
    rps=$(echo "$out" | awk -F'"' -v op="$OP" '$2 == op {print $4}')
    p50=$(echo "$out" | awk -F'"' -v op="$OP" '$2 == op {print $10}')
    if [ $rc -ne 0 ] || [ -z "$rps" ]; then
        errs=$((errs + 1))
        echo "    redis-benchmark failed (exit $rc): $(echo "$out" | grep -v '^"' | tail -n 2)"
        rps=0 p50=0
    fi
    errs=$((errs + ${e1:-0} - ${e0:-0}))
    if [ -n "$p0" ] && [ -n "$p1" ] && [ $((p1 - p0)) -lt "$n" ]; then
        errs=$((errs + n - (p1 - p0)))
    fi
    ERRS[$target]=$((ERRS[$target] + errs))
    RPS[$target,$op,$c,$run]=$rps
    P50[$target,$op,$c,$run]=$p50
    CPU[$target,$op,$c,$run]=$(awk -v t=$((c1 - c0)) -v us="$TICK_US" -v n="$n" \
        'BEGIN {printf "%.1f", t * us / n}')
    BUSY[$target,$op,$c,$run]=$(busy_pct "$m0" "$m1")
    printf '  run %d  %-8s %-3s c=%-2s n=%-6s %9s req/s  p50 %6s ms  cpu %6s us/req  machine %3s%% busy  errors %d\n' \
        "$run" "$target" "$op" "$c" "$n" "$rps" "$p50" "${CPU[$target,$op,$c,$run]}" \
        "${BUSY[$target,$op,$c,$run]}" "$errs"
}

for run in $(seq 1 "$RUNS"); do
    for c in $CONNS; do
        for target in redis leader follower; do
            if [ "$target" != redis ]; then
                l=$(raft_field "$LEADER" leader)
                if [ "$l" != "n$LEADER" ]; then
                    echo "  leader changed: n$LEADER -> ${l:-none}"
                    LEADER=$(wait_stable_leader 20) || bench_die "no stable leader"
                    FOLLOWER=$(first_follower "$LEADER")
                fi
            fi
            run_one "$target" set "$c" "$run"
            [ "$target" != redis ] && check_sample "$target"
            run_one "$target" get "$c" "$run"
        done
    done
done
TERM1=$(raft_field "$LEADER" term)

echo
echo "Requests/s, median of $RUNS runs (p50 latency in ms); ratio = synod / redis-server"
echo
cell() { printf '%s (%s)' "$(fmt_int "$1")" "$2"; } # requests/s (p50 ms)
echo "| op  | conns | redis-server fsync always | synod leader      | ratio | synod follower    | ratio |"
echo "|-----|------:|--------------------------:|------------------:|------:|------------------:|------:|"
for op in set get; do
    for c in $CONNS; do
        r=$(med RPS redis $op "$c")
        l=$(med RPS leader $op "$c")
        f=$(med RPS follower $op "$c")
        printf "| %-3s | %5s | %25s | %17s | %5s | %17s | %5s |\n" "${op^^}" "$c" \
            "$(cell "$r" "$(med P50 redis $op "$c")")" "$(cell "$l" "$(med P50 leader $op "$c")")" \
            "$(ratio "$l" "$r")" "$(cell "$f" "$(med P50 follower $op "$c")")" "$(ratio "$f" "$r")"
    done
done
echo
echo "CPU time per request in us, median of $RUNS runs (synod: the three agents together), and"
echo "how busy the whole machine was (all vCPUs; the client and other jobs included)"
echo
echo "| op  | conns | redis-server | synod via leader | ratio | synod via follower | ratio | busy: redis / leader / follower |"
echo "|-----|------:|-------------:|-----------------:|------:|-------------------:|------:|--------------------------------:|"
for op in set get; do
    for c in $CONNS; do
        r=$(med CPU redis $op "$c")
        l=$(med CPU leader $op "$c")
        f=$(med CPU follower $op "$c")
        printf "| %-3s | %5s | %12s | %16s | %5s | %18s | %5s | %31s |\n" "${op^^}" "$c" "$r" "$l" \
            "$(ratio "$l" "$r")" "$f" "$(ratio "$f" "$r")" \
            "$(med BUSY redis $op "$c")% / $(med BUSY leader $op "$c")% / $(med BUSY follower $op "$c")%"
    done
done
echo
echo "Ratio synod / redis-server within each run (the two measured back to back, so that a"
echo "neighbour's load hits both alike); the spread shows how noisy the machine was"
echo
echo "| op  | conns | leader, run by run | follower, run by run |"
echo "|-----|------:|--------------------|----------------------|"
for op in set get; do
    for c in $CONNS; do
        l="" f=""
        for r in $(seq 1 "$RUNS"); do
            l="$l $(ratio "${RPS[leader,$op,$c,$r]}" "${RPS[redis,$op,$c,$r]}")"
            f="$f $(ratio "${RPS[follower,$op,$c,$r]}" "${RPS[redis,$op,$c,$r]}")"
        done
        printf "| %-3s | %5s | %-18s | %-20s |\n" "${op^^}" "$c" "${l# }" "${f# }"
    done
done
echo
last_c=${CONNS##* }
set_ratio=$(ratio "$(med RPS leader set "$last_c")" "$(med RPS redis set "$last_c")")
get_ratio=$(ratio "$(med RPS leader get "$last_c")" "$(med RPS redis get "$last_c")")
verdict() { awk -v r="$1" 'BEGIN {print (r + 0 >= 0.5) ? "met" : "NOT met"}'; }
echo "target: SET at $last_c conns, synod leader >= 0.5 x redis-server fsync always: $set_ratio ($(verdict "$set_ratio"))"
echo "target: linearizable GET at $last_c conns, synod leader >= 0.5 x redis GET:  $get_ratio ($(verdict "$get_ratio"))"
echo "elections during the run: $((TERM1 - TERM0)) (term $TERM0 -> $TERM1)"
total=$((ERRS[redis] + ERRS[leader] + ERRS[follower]))
echo "errors: redis-server ${ERRS[redis]}, synod leader ${ERRS[leader]}, synod follower" \
    "${ERRS[follower]} ($INVOCATIONS redis-benchmark runs); key samples identical on all" \
    "nodes: $SAMPLES_OK of $SAMPLES"
[ "$total" = 0 ] && [ "$SAMPLES_OK" = "$SAMPLES" ]
