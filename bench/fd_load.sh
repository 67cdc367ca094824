#!/usr/bin/env bash
# fd_load.sh: the failure detector under full CPU load (issue 5's target: an agent killed with
# SIGKILL is marked failed within 2 s at the default settings, and no node is falsely
# suspected during 5 minutes of full CPU load). Not part of `make test`; figures go to
# docs/failure-detection.md.
#
#   bench/fd_load.sh [--quick] [--seconds S] [--kills N]
#
# Starts 3 agents and one busy loop per CPU (same priority as the agents), waits S seconds
# (300; --quick: 30) and counts every "suspect" and "failed" line in the agents' logs (must
# be 0). Then, still under load, kills one agent with SIGKILL N times (10), in turn, and
# measures how long each survivor took to mark it failed, from the survivors' own log
# timestamps; restarts it and waits until everyone is alive again before the next kill.
# Prints the distribution; exit 1 on a false suspicion or a detection over 2 s.
cd "$(dirname "$0")/.." || exit 2
SECONDS_LOAD=300
KILLS=10
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SECONDS_LOAD=30 ;;
        --seconds) SECONDS_LOAD=$2; shift ;;
        --kills) KILLS=$2; shift ;;
        *) echo "usage: bench/fd_load.sh [--quick] [--seconds S] [--kills N]" >&2; exit 2 ;;
    esac
    shift
done
. tests/cluster/lib.sh
FD_POLL=tests/cluster/fd_poll.py
N=3
DETECT_MS=2000

HOG_PIDS=()
hogs_stop() {
    local p
    for p in "${HOG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    for p in "${HOG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    HOG_PIDS=()
}
ON_EXIT+=(hogs_stop)

every_alive() {
    local i ports=()
    for i in $(seq 1 $N); do node_alive "$i" && ports+=("$(http_port "$i")"); done
    python3 "$FD_POLL" alive "${ports[@]}"
}

# The suspicion and failure lines of every log, from line FROM on (a count per log).
fd_lines() { cat "$CLUSTER_DIR"/n*.log | grep -E "fd: n[0-9]+ (suspect|failed)" || true; }

cluster_start $N
find_leader 15 >/dev/null || fail "no leader within 15 s"
wait_until 15 every_alive || fail "the agents do not all see each other alive"

cpus=$(nproc)
for _ in $(seq 1 "$cpus"); do
    (while :; do :; done) &
    HOG_PIDS+=($!)
done
say "$cpus busy loops started; load for $SECONDS_LOAD s (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
end=$((SECONDS + SECONDS_LOAD))
while [ $SECONDS -lt $end ]; do
    sleep 5
    for i in $(seq 1 $N); do node_alive "$i" || fail "n$i exited under load"; done
done
false_lines=$(fd_lines)
false_count=$(printf '%s' "$false_lines" | grep -c . || true)
say "after $SECONDS_LOAD s of full load (load average $(cut -d' ' -f1-3 /proc/loadavg)): $false_count suspicions or failures"
[ -n "$false_lines" ] && echo "$false_lines"

# Kills under the same load.
times=()
worst=0
for k in $(seq 1 "$KILLS"); do
    victim=$(((k - 1) % N + 1))
    sleep 3 # a few seconds of heartbeats in the windows again
    kill_ms=$(now_ms)
    node_kill "$victim"
    detected=()
    for i in $(seq 1 $N); do
        [ "$i" = "$victim" ] && continue
        t=""
        for _ in $(seq 1 60); do # 6 s at most
            t=$(python3 "$FD_POLL" logged "$CLUSTER_DIR/n$i.log" "fd: n$victim failed" "$kill_ms") && break
            sleep 0.1
        done
        [ -n "$t" ] || fail "n$i did not mark n$victim failed within 6 s"
        detected+=("n$i:$t")
        times+=("$t")
        [ "$t" -gt "$worst" ] && worst=$t
    done
    say "kill $k: n$victim failed at ${detected[*]} ms"
    node_start "$victim" $N
    wait_until 20 every_alive || fail "not everyone alive again 20 s after restarting n$victim"
done
hogs_stop

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
count=$(printf '%s\n' "$sorted" | wc -l)
p50=$(printf '%s\n' "$sorted" | sed -n "$(((count + 1) / 2))p")
echo "fd_load: $SECONDS_LOAD s of full load on $cpus CPUs: $false_count false suspicions or failures"
echo "fd_load: $KILLS kills, $count detections: min $(echo "$sorted" | head -1), p50 $p50, max $worst ms"
echo "fd_load: all: $(echo $sorted)"
[ "$false_count" -eq 0 ] || { echo "fd_load: FAIL: false suspicions under load"; exit 1; }
[ "$worst" -le $DETECT_MS ] || { echo "fd_load: FAIL: a detection took $worst ms"; exit 1; }
echo "fd_load: ok"
