#!/usr/bin/env bash
# memory.sh: what a node holds in memory and how fast it comes back. Three synod agents on
# loopback (fsync on) and one redis-server (appendonly yes, appendfsync always), loaded with
# the same data: keys mem:000000000000, mem:000000000001, ... with 128-byte values, written
# by redis-cli --pipe from bench/resp_probe.py gen-sets (its error and reply counts checked).
#
# 1. RSS: VmRSS of every agent and of redis-server (and the anonymous / file-backed parts,
#    from /proc/PID/status) empty and after KEYS keys; the bytes on disk.
# 2. Restart: with RESTART_KEYS keys loaded, a follower is killed (SIGKILL) and started again
#    from its data dir; the figure is the time from starting the process to its first GET
#    answered with the right value (a linearizable read: the node has recovered, found the
#    leader and caught up). RESTARTS times with the page cache warm, once with the node's
#    files evicted from the page cache first (posix_fadvise DONTNEED), once for the whole
#    cluster killed and started together (recovery plus an election), and redis-server
#    restarted from its append-only file, the same way.
#
#   bench/memory.sh [--keys N] [--restart-keys N] [--restarts R]
#     defaults: 100,000 keys, 1,000,000 keys for the restart, 3 warm restarts
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

KEYS=100000
RESTART_KEYS=1000000
RESTARTS=3
while [ $# -gt 0 ]; do
    case "$1" in
    --keys) KEYS=$2 && shift ;;
    --restart-keys) RESTART_KEYS=$2 && shift ;;
    --restarts) RESTARTS=$2 && shift ;;
    *) echo "usage: bench/memory.sh [--keys N] [--restart-keys N] [--restarts R]" >&2 && exit 2 ;;
    esac
    shift
done
[ "$RESTART_KEYS" -ge "$KEYS" ] || bench_die "--restart-keys must be at least --keys"

bench_setup memory $((600 + RESTART_KEYS / 1000))
echo "== memory: RSS with $KEYS keys of 128 bytes; restart with $RESTART_KEYS keys"
bench_machine
ERRORS=0

# load PORT FIRST COUNT: SET keys FIRST..FIRST+COUNT-1 through redis-cli --pipe
load() {
    local out
    out=$(python3 "$BENCH_PY" gen-sets --first "$2" --count "$3" |
        timeout $((120 + $3 / 2000)) redis-cli -h 127.0.0.1 -p "$1" --pipe 2>&1)
    if ! echo "$out" | grep -q "errors: 0, replies: $3\$"; then
        echo "  load on port $1 failed: $(echo "$out" | tail -n 1)"
        ERRORS=$((ERRORS + 1))
    fi
}

key_of() { printf 'mem:%012d' "$1"; }

# check_keys COUNT: every agent's DBSIZE is COUNT and the last key reads back right on each
check_keys() {
    local i want got size
    want=$(python3 "$BENCH_PY" value --index $(($1 - 1)))
    for i in $(seq 1 "$NODE_COUNT"); do
        size=$(rcli "$i" DBSIZE)
        got=$(rcli "$i" GET "$(key_of $(($1 - 1)))")
        if [ "$size" != "$1" ] || [ "$got" != "$want" ]; then
            echo "  n$i: DBSIZE $size (want $1), last key $([ "$got" = "$want" ] && echo right ||
                echo wrong)"
            ERRORS=$((ERRORS + 1))
        fi
    done
}

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

rss_row() { # rss_row NAME PID EMPTY_KIB KEYS REDIS_DELTA_KIB
    local rss anon file delta
    rss=$(rss_kib "$2" VmRSS)
    anon=$(rss_kib "$2" RssAnon)
    file=$(rss_kib "$2" RssFile)
    delta=$((rss - $3))
    printf '| %-22s | %8s | %9s | %8s | %8s | %9s | %5s |\n' "$1" "$(mib "$3")" "$(mib "$rss")" \
        "$(mib "$anon")" "$(mib "$file")" "$((delta * 1024 / $4))" "$(ratio "$delta" "$5")"
}

# ---- 1. RSS -------------------------------------------------------------------------------
cluster_start
redis_start
leader=$(wait_stable_leader 20) || bench_die "no stable leader within 20 s"
follower=$(first_follower "$leader")
sleep 1
declare -a EMPTY
for i in $(seq 1 "$NODE_COUNT"); do
    EMPTY[$i]=$(rss_kib "${PIDS[$i]}" VmRSS)
done
redis_empty=$(rss_kib "$REDIS_PID" VmRSS)
t=$SECONDS
load "$(resp_port "$leader")" 0 "$KEYS"
synod_load_s=$((SECONDS - t))
t=$SECONDS
load "$(redis_port)" 0 "$KEYS"
redis_load_s=$((SECONDS - t))
wait_caught_up 120 || bench_die "the followers did not catch up with the load"
check_keys "$KEYS"
sleep 1
redis_delta=$(($(rss_kib "$REDIS_PID" VmRSS) - redis_empty))
echo
echo "RSS with $KEYS keys of 128 bytes (loaded through the leader n$leader in ~$synod_load_s s;" \
    "redis-server in ~$redis_load_s s)"
echo
echo "| process                | empty MiB | loaded MiB | anon MiB | file MiB | bytes/key | ratio |"
echo "|------------------------|----------:|-----------:|---------:|---------:|----------:|------:|"
rss_row "redis-server" "$REDIS_PID" "$redis_empty" "$KEYS" "$redis_delta"
for i in $(seq 1 "$NODE_COUNT"); do
    role=follower
    [ "$i" = "$leader" ] && role=leader
    rss_row "synod n$i ($role)" "${PIDS[$i]}" "${EMPTY[$i]}" "$KEYS" "$redis_delta"
done
echo "(bytes/key: (loaded - empty) RSS / keys; ratio: the same growth over redis-server's;" \
    "redis used_memory $(info_field "$(redis_port)" used_memory_human))"
echo "on disk: redis-server $(du -sh "$BENCH_DIR/redis" | cut -f1); synod n$follower" \
    "$(du -sh "$BENCH_DIR/n$follower" | cut -f1) ($(cd "$BENCH_DIR/n$follower" &&
        du -sh -- * 2>/dev/null | tr '\t' ' ' | paste -sd, -))"

# ---- 2. restart ---------------------------------------------------------------------------
if [ "$RESTART_KEYS" -gt "$KEYS" ]; then
    t=$SECONDS
    load "$(resp_port "$leader")" "$KEYS" $((RESTART_KEYS - KEYS))
    echo
    echo "loaded $((RESTART_KEYS - KEYS)) more keys through n$leader in $((SECONDS - t)) s"
    load "$(redis_port)" "$KEYS" $((RESTART_KEYS - KEYS))
    wait_caught_up 300 || bench_die "the followers did not catch up with the load"
    check_keys "$RESTART_KEYS"
fi
LAST_KEY=$(key_of $((RESTART_KEYS - 1)))
LAST_VALUE=$(python3 "$BENCH_PY" value --index $((RESTART_KEYS - 1)))
echo "RSS with $RESTART_KEYS keys (anon + file): $(for i in $(seq 1 "$NODE_COUNT"); do
    printf 'n%s %s MiB (%s + %s), ' "$i" "$(mib "$(rss_kib "${PIDS[$i]}" VmRSS)")" \
        "$(mib "$(rss_kib "${PIDS[$i]}" RssAnon)")" "$(mib "$(rss_kib "${PIDS[$i]}" RssFile)")"
done)redis-server $(mib "$(rss_kib "$REDIS_PID" VmRSS)") MiB ($(mib "$(rss_kib "$REDIS_PID" \
    RssAnon)") + $(mib "$(rss_kib "$REDIS_PID" RssFile)"))"
echo "data dir of n$follower: $(du -sh "$BENCH_DIR/n$follower" | cut -f1) ($(cd \
    "$BENCH_DIR/n$follower" && du -sh -- * 2>/dev/null | tr '\t' ' ' | paste -sd, -))"

# timed_restart PORT STOP START: runs STOP, then START (in this shell, so that pids are kept
# for the cleanup), and sets MS to the milliseconds from just before START to the first right
# GET on PORT, or to "none". The probe starts first and waits for the start instant in a file,
# so that Python's start-up is not part of the figure.
timed_restart() {
    local port=$1 stop=$2 start=$3 probe
    rm -f "$BENCH_DIR/t0" "$BENCH_DIR/t0.tmp"
    timeout 150 python3 "$BENCH_PY" wait-get --port "$port" --key "$LAST_KEY" \
        --expect "$LAST_VALUE" --since-file "$BENCH_DIR/t0" --max-ms 120000 \
        >"$BENCH_DIR/probe.out" &
    probe=$!
    # 3 s settle: the leader's redial backoff starts afresh only once a connection has
    # lasted 2 s (transport_dial.c), so back-to-back restarts would inherit a long backoff
    sleep 3
    $stop
    date +%s%N >"$BENCH_DIR/t0.tmp" && mv "$BENCH_DIR/t0.tmp" "$BENCH_DIR/t0"
    $start
    wait "$probe"
    MS=$(sed -n 's/^ms=\([0-9.]*\).*/\1/p; s/^ms=none.*/none/p' "$BENCH_DIR/probe.out")
    MS=${MS:-none}
    [ "$MS" = none ] && ERRORS=$((ERRORS + 1))
}

evict() { # evict DIR: write back and drop every file under DIR from the page cache
    python3 - "$1" <<'EOF'
import os, sys
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        fd = os.open(os.path.join(root, f), os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
EOF
}

follower_stop() { node_kill "$follower"; }
follower_stop_cold() { node_kill "$follower" && evict "$BENCH_DIR/n$follower"; }
follower_stop_5s() { node_kill "$follower" && sleep 5; }
follower_start() { node_start "$follower"; }
cluster_kill() {
    local i
    for i in $(seq 1 "$NODE_COUNT"); do
        node_kill "$i"
    done
}
row() { printf '| %-46s | %10s ms |\n' "$1" "$MS"; }

declare -a WARM
echo
echo "| restart with $RESTART_KEYS keys (killed with SIGKILL)    | start to GET |"
echo "|------------------------------------------------|-------------:|"
for r in $(seq 1 "$RESTARTS"); do
    wait_caught_up 60 >/dev/null || bench_die "no settled cluster before restart $r"
    timed_restart "$(resp_port "$follower")" follower_stop follower_start
    WARM+=("$MS")
    row "follower n$follower, at once, page cache warm ($r)"
done
wait_caught_up 60 >/dev/null || bench_die "no settled cluster before the cold restart"
timed_restart "$(resp_port "$follower")" follower_stop_cold follower_start
COLD=$MS
row "follower n$follower, at once, its files evicted"
wait_caught_up 60 >/dev/null || bench_die "no settled cluster before the late restart"
timed_restart "$(resp_port "$follower")" follower_stop_5s follower_start
LATE=$MS
row "follower n$follower, after 5 s down, page cache warm"
wait_caught_up 60 >/dev/null || bench_die "no settled cluster before the cluster restart"
timed_restart "$(resp_port 1)" cluster_kill cluster_start
row "all 3 killed, started together (GET on n1)"
timed_restart "$(redis_port)" redis_kill redis_launch
row "redis-server, from its append-only file"
echo
med=$(median "${WARM[@]}")
verdict() { awk -v m="$1" 'BEGIN {print (m != "none" && m <= 2000) ? "met" : "NOT met"}'; }
echo "target: a node holding $RESTART_KEYS keys serves a GET <= 2000 ms after it starts:" \
    "warm median $med ms ($(verdict "$med")), cold $COLD ms ($(verdict "$COLD")), after 5 s" \
    "down $LATE ms ($(verdict "$LATE"))"
echo "errors: $ERRORS"
[ "$ERRORS" = 0 ]
