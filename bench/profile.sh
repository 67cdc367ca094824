#!/usr/bin/env bash
# profile.sh: where a write's time goes, as counts per request on each agent. Three synod
# agents on loopback (fsync on); redis-benchmark SET (or GET) of 128-byte values on 10,000
# keys against the leader. During one run, `perf stat` on every agent counts uprobes on
# synod's own functions (proposals, Raft messages sent, Ready cycles, WAL syncs, LMDB write
# transactions) and system calls (fdatasync, write/writev/sendmsg, read, epoll_wait, futex),
# and CPU time; each count is divided by the requests. During a second run, `perf record -g`
# samples the leader and prints its hottest functions. Needs root and perf (linux-perf); not
# part of `make bench`: docs/performance.md quotes it.
#
#   bench/profile.sh [--op set|get] [--requests N] [--conns C]     (default set, 100000, 64)
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OP="set"
REQUESTS=100000
CONNS=64
while [ $# -gt 0 ]; do
    case "$1" in
    --op) OP=$2 && shift ;;
    --requests) REQUESTS=$2 && shift ;;
    --conns) CONNS=$2 && shift ;;
    *) echo "usage: bench/profile.sh [--op set|get] [--requests N] [--conns C]" >&2 && exit 2 ;;
    esac
    shift
done
command -v perf >/dev/null 2>&1 || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "profile: uprobes need root" >&2; exit 1; }

GROUP=synodbench$$
bench_setup profile 900
PROBES=(propose=raft_propose send=transport_send_raft ready=raft_ready sync=wal_sync
    persist=wal_persist kv_commit=kv_apply_commit kv_get=kv_get)
probes_remove() { perf probe -q -d "$GROUP:*" >/dev/null 2>&1; }
trap 'probes_remove; bench_cleanup' EXIT
SYNOD_ABS=$(readlink -f "$SYNOD")
for p in "${PROBES[@]}"; do
    perf probe -q -x "$SYNOD_ABS" -a "$GROUP:$p" >/dev/null 2>&1 ||
        bench_die "perf probe $p in $SYNOD_ABS failed"
done

echo "== profile: redis-benchmark -t $OP -d 128 -r 10000 -n $REQUESTS -c $CONNS against the leader"
bench_machine
cluster_start
LEADER=$(wait_stable_leader 20) || bench_die "no stable leader within 20 s"
if [ "$OP" = get ]; then # something to read
    timeout 300 redis-benchmark -h 127.0.0.1 -p "$(resp_port "$LEADER")" -t set -d 128 \
        -r 10000 -n 50000 -c 64 -q >/dev/null 2>&1
fi
wait_caught_up 60 || bench_die "the followers did not catch up"

SYSCALLS=(fdatasync write writev read epoll_wait futex pwrite64)
# stat_run EVENTS LABEL: one benchmark run with `perf stat -e EVENTS` on every agent
stat_run() {
    local i out
    declare -a spids
    for i in $(seq 1 "$NODE_COUNT"); do
        perf stat -x, -e "$1" -p "${PIDS[$i]}" -o "$BENCH_DIR/stat.$2.n$i" &
        spids[$i]=$!
    done
    sleep 1
    out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "$(resp_port "$LEADER")" -t "$OP" -d 128 \
        -r 10000 -n "$REQUESTS" -c "$CONNS" --csv 2>&1)
    for i in $(seq 1 "$NODE_COUNT"); do
        kill -INT "${spids[$i]}"
        wait "${spids[$i]}"
    done
    echo "$2 run: $(echo "$out" | awk -F'"' 'NR == 2 {print $2, $4 " req/s, p50 " $10 " ms"}')"
}
# stat_row LABEL EVENT NAME: one table row, the count per request on each agent
stat_row() {
    local i v
    printf '| %-30s |' "$3"
    for i in $(seq 1 "$NODE_COUNT"); do
        v=$(awk -F, -v e="$2" '$3 == e {print $1}' "$BENCH_DIR/stat.$1.n$i" | head -n 1)
        if [ "$2" = task-clock ]; then # msec
            printf ' %13s |' "$(awk -v v="${v:-0}" -v n="$REQUESTS" 'BEGIN {printf "%.1f", v * 1000 / n}')"
        else
            printf ' %13s |' "$(awk -v v="${v:-0}" -v n="$REQUESTS" 'BEGIN {printf "%.3f", v / n}')"
        fi
    done
    echo
}

events=task-clock
for sc in "${SYSCALLS[@]}"; do
    events="$events,syscalls:sys_enter_$sc"
done
stat_run "$events" syscalls
events=""
for p in "${PROBES[@]}"; do
    events="${events:+$events,}$GROUP:${p%%=*}"
done
stat_run "$events" uprobes
echo "(the uprobes slow every call they count: that run's throughput is lower)"
echo
echo "Per request: counts over a run divided by $REQUESTS (they include the second before and"
echo "after the run: heartbeats, a few dozen events); CPU in us"
echo
printf '| %-30s |' "per request"
for i in $(seq 1 "$NODE_COUNT"); do
    role=follower
    [ "$i" = "$LEADER" ] && role=leader
    printf ' %-13s |' "n$i $role"
done
echo
printf '|%s|' "--------------------------------"
for i in $(seq 1 "$NODE_COUNT"); do printf '%s|' "--------------:"; done
echo
stat_row syscalls task-clock "CPU us"
for sc in "${SYSCALLS[@]}"; do
    stat_row syscalls "syscalls:sys_enter_$sc" "syscall $sc"
done
for p in "${PROBES[@]}"; do
    stat_row uprobes "$GROUP:${p%%=*}" "${p#*=}() calls"
done

# ---- where the CPU goes -------------------------------------------------------------------
FOLLOWER=$(first_follower "$LEADER")
perf record -q --call-graph dwarf,16384 -F 499 -p "${PIDS[$LEADER]}" \
    -o "$BENCH_DIR/perf.leader" >/dev/null 2>&1 &
REC1=$!
perf record -q --call-graph dwarf,16384 -F 499 -p "${PIDS[$FOLLOWER]}" \
    -o "$BENCH_DIR/perf.follower" >/dev/null 2>&1 &
REC2=$!
sleep 1
timeout 600 redis-benchmark -h 127.0.0.1 -p "$(resp_port "$LEADER")" -t "$OP" -d 128 \
    -r 10000 -n "$REQUESTS" -c "$CONNS" -q >/dev/null 2>&1
kill -INT "$REC1" "$REC2"
wait "$REC1"
wait "$REC2"
# report ROLE: synod's and the libraries' functions by inclusive share of the samples
report() {
    echo
    echo "perf record --call-graph dwarf on the $1 during a third run: functions by share of"
    echo "all samples including their callees (kernel time included under its caller)"
    echo
    perf report -i "$BENCH_DIR/perf.$1" --children --sort symbol --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9].*\[\.\] [a-z_]' |
        grep -v -E ' (uv_run|agent_cmd_main|_start|__libc_start[a-z_]*|clone3|start_thread) ' |
        awk '{n = $4; if ($5 == "(inlined)") n = n " (inlined)"; printf "  %7s  %s\n", $1, n}' |
        head -n 24
}
report leader
report follower
