#!/usr/bin/env bash
# lib.sh: helpers for the benchmarks that run real agents and a real redis-server on loopback
# (bench/resp_vs_redis.sh, failover.sh, memory.sh, profile.sh). Source it. It picks free random
# base ports, keeps every data dir under one temporary directory on a real disk (fsync means
# something there, unlike tmpfs), and on exit kills the processes it started, by pid, and
# removes that directory. Every wait is bounded.
set -uo pipefail

BUILD=${BUILD:-build}
SYNOD=${SYNOD:-$BUILD/synod}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
BENCH_PY=${BENCH_PY:-$(dirname "${BASH_SOURCE[0]}")/resp_probe.py}
SYNOD_COMMIT=${SYNOD_COMMIT:-} # what $SYNOD was built from, when not this checkout's HEAD
NODE_COUNT=3
declare -a PIDS      # synod agents, by node index
REDIS_PID=""
WATCHDOG_PID=""
BENCH_MAX_S=0
BENCH_DIR=""

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_die() {
    echo "bench: $*" >&2
    local f
    for f in "$BENCH_DIR"/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f (last lines)" >&2
        tail -n 10 "$f" >&2
    done
    exit 1
}

# ---- dependencies -------------------------------------------------------------------------
# redis-server (the peer we compare with) and redis-benchmark are bench-only dependencies:
# tools/deps.sh does not install them for the build; this does, when run as root.
# bench_apt_install PACKAGE...: installs the Debian packages given (none: nothing), as root;
# otherwise says what to install and exits.
bench_apt_install() {
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ]; then
        bench_die "missing $*: apt-get install $*"
    fi
    bench_log "installing $*"
    timeout 300 apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null || bench_die "apt-get install $* failed"
}

bench_need_tools() {
    local missing=() t
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
    command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    bench_apt_install "${missing[@]}"
    for t in "$SYNOD" "$BENCH_PY"; do
        [ -e "$t" ] || bench_die "$t not found (run make first)"
    done
}

# ---- setup and cleanup --------------------------------------------------------------------
bench_cleanup() {
    local pid
    {
        [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID"
        for pid in "${PIDS[@]:-}" "$REDIS_PID"; do
            [ -n "$pid" ] && kill -9 "$pid"
        done
        # each by its pid: a bare `wait` leaves bash to print "Killed" notices later
        for pid in "$WATCHDOG_PID" "${PIDS[@]:-}" "$REDIS_PID"; do
            [ -n "$pid" ] && wait "$pid"
        done
    } 2>/dev/null
    if [ -n "$BENCH_DIR" ] && [ -d "$BENCH_DIR" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            echo "bench files kept in $BENCH_DIR" >&2
        else
            rm -rf "$BENCH_DIR"
        fi
    fi
}

# bench_setup NAME MAX_SECONDS: the temporary dir, the ports, the cleanup trap and a watchdog
# that ends the script (and so its processes) after MAX_SECONDS.
bench_setup() {
    local name=$1 max_s=$2 fs
    bench_need_tools
    BENCH_DIR=$(mktemp -d "$BENCH_TMP/synod-bench-$name-XXXXXX") || bench_die "mktemp in $BENCH_TMP"
    trap bench_cleanup EXIT
    BENCH_MAX_S=$max_s
    trap 'echo "bench: stopped (interrupted, or over its $BENCH_MAX_S s bound)" >&2; exit 130' INT TERM
    fs=$(stat -f -c %T "$BENCH_DIR")
    BENCH_FS=$fs
    case "$fs" in
    tmpfs | ramfs) bench_log "WARNING: $BENCH_DIR is on $fs: fsync costs nothing there" ;;
    esac
    bench_pick_ports
    # The watchdog holds no output pipe open (a reader such as tee would wait for it) and
    # takes its sleep with it when the cleanup stops it.
    (
        exec >/dev/null 2>&1
        sleep "$max_s" &
        sleep_pid=$!
        trap 'kill "$sleep_pid"; exit 0' TERM
        # then the script's own children, so that a command it waits on ends at once
        wait "$sleep_pid" && kill -TERM $$ && pkill -TERM -P $$
    ) &
    WATCHDOG_PID=$!
}

port_busy() { # port_busy PORT: true when something listens on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports: BASE+1..3 peer, BASE+11..13 RESP, BASE+21..23 HTTP, BASE+30 redis-server. BASE lies
# in 10000..19960: below the kernel's ephemeral ports (32768 and up), where an outgoing
# connection could take a port between this check and the listen, and below the ports
# tests/cluster picks (20000 and up).
bench_pick_ports() {
    local p ok
    for _ in $(seq 1 50); do
        BASE_PORT=$((10000 + (RANDOM % 250) * 40))
        ok=1
        for p in 1 2 3 11 12 13 21 22 23 30; do
            if port_busy $((BASE_PORT + p)); then
                ok=0
                break
            fi
        done
        [ "$ok" = 1 ] && return 0
    done
    bench_die "no free port range found"
}

peer_port() { echo $((BASE_PORT + $1)); }
resp_port() { echo $((BASE_PORT + 10 + $1)); }
http_port() { echo $((BASE_PORT + 20 + $1)); }
redis_port() { echo $((BASE_PORT + 30)); }

bench_machine() { # one line about where the numbers come from
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "machine: $(nproc) vCPU ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM," \
        "data dirs on $BENCH_FS ($BENCH_DIR), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    local commit=${SYNOD_COMMIT:-$(git -C "$(dirname "${BASH_SOURCE[0]}")/.." describe --always \
        --dirty 2>/dev/null || echo unknown)}
    echo "synod: $SYNOD ($("$SYNOD" version 2>/dev/null), commit $commit);" \
        "$(redis-server --version | cut -d' ' -f1-3); $(redis-benchmark --version)"
}

# ---- synod agents -------------------------------------------------------------------------
initial_cluster() {
    local list="" i
    for i in $(seq 1 "$NODE_COUNT"); do
        list="${list:+$list,}n$i=127.0.0.1:$(peer_port "$i")"
    done
    echo "$list"
}

node_start() { # node_start I [extra flags]
    local i=$1
    shift
    "$SYNOD" agent --id "n$i" --data-dir "$BENCH_DIR/n$i" \
        --peer-addr "127.0.0.1:$(peer_port "$i")" --resp-addr "127.0.0.1:$(resp_port "$i")" \
        --http-addr "127.0.0.1:$(http_port "$i")" --initial-cluster "$(initial_cluster)" \
        --log-level warn "$@" >>"$BENCH_DIR/n$i.log" 2>&1 &
    PIDS[$i]=$!
}

node_kill() { # node_kill I: SIGKILL, then reap
    local i=$1
    [ -n "${PIDS[$i]:-}" ] || return 0
    kill -9 "${PIDS[$i]}" 2>/dev/null
    wait "${PIDS[$i]}" 2>/dev/null
    PIDS[$i]=""
}

cluster_start() {
    local i
    for i in $(seq 1 "$NODE_COUNT"); do
        node_start "$i"
    done
}

rcli() { # rcli I ARGS...: redis-cli against node I, 5 s at most
    local i=$1
    shift
    timeout 5 redis-cli -h 127.0.0.1 -p "$(resp_port "$i")" "$@"
}

raft_field() { # raft_field I FIELD: a field of node I's INFO raft, or nothing
    rcli "$1" INFO raft 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

info_field() { # info_field PORT FIELD: a field of INFO at a RESP port (synod or redis)
    timeout 5 redis-cli -h 127.0.0.1 -p "$1" INFO 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

# wait_stable_leader [SECONDS]: prints the leader's index once every running node names the
# same leader in the same term and says it is serving; 1 if that does not happen in time.
wait_stable_leader() {
    local deadline=$((SECONDS + ${1:-20})) i leader term l t s ok
    while [ $SECONDS -lt $deadline ]; do
        ok=1 leader="" term=""
        for i in $(seq 1 "$NODE_COUNT"); do
            [ -n "${PIDS[$i]:-}" ] || continue
            l=$(raft_field "$i" leader)
            t=$(raft_field "$i" term)
            s=$(raft_field "$i" serving)
            if [ -z "$l" ] || [ "$s" != yes ] || { [ -n "$leader" ] && [ "$l" != "$leader" ]; } ||
                { [ -n "$term" ] && [ "$t" != "$term" ]; }; then
                ok=0
                break
            fi
            leader=$l term=$t
        done
        if [ "$ok" = 1 ] && [ -n "$leader" ]; then
            echo "${leader#n}"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_caught_up [SECONDS]: every running node has applied what the leader had committed when
# the wait began.
wait_caught_up() {
    local deadline=$((SECONDS + ${1:-30})) leader target i a
    leader=$(wait_stable_leader 20) || return 1
    target=$(raft_field "$leader" commit_index)
    [ -n "$target" ] || return 1
    for i in $(seq 1 "$NODE_COUNT"); do
        [ -n "${PIDS[$i]:-}" ] || continue
        while true; do
            a=$(raft_field "$i" applied_index)
            [ -n "$a" ] && [ "$a" -ge "$target" ] && break
            [ $SECONDS -lt $deadline ] || return 1
            sleep 0.1
        done
    done
}

first_follower() { # first_follower LEADER: the lowest node index that is not LEADER
    local i
    for i in $(seq 1 "$NODE_COUNT"); do
        [ "$i" != "$1" ] && echo "$i" && return 0
    done
}

# ---- redis-server, the peer ---------------------------------------------------------------
# One redis-server with the durability synod has: append-only file, fsync before each reply.
# redis_launch starts it; redis_start also waits until it answers PING.
redis_launch() {
    mkdir -p "$BENCH_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$(redis_port)" --dir "$BENCH_DIR/redis" \
        --appendonly yes --appendfsync always --save "" --daemonize no \
        --logfile "$BENCH_DIR/redis.log" >/dev/null 2>&1 &
    REDIS_PID=$!
}

redis_start() {
    redis_launch
    local deadline=$((SECONDS + 20))
    until [ "$(timeout 2 redis-cli -p "$(redis_port)" PING 2>/dev/null)" = PONG ]; do
        [ $SECONDS -lt $deadline ] || bench_die "redis-server did not answer PING"
        sleep 0.05
    done
}

redis_kill() {
    [ -n "$REDIS_PID" ] || return 0
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
}

# ---- measurements -------------------------------------------------------------------------
cpu_ticks() { # cpu_ticks PID: utime + stime, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

cpu_jiffies() { # cpu_jiffies: "busy total" jiffies of the whole machine, from /proc/stat
    awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat
}

busy_pct() { # busy_pct "BUSY0 TOTAL0" "BUSY1 TOTAL1": the machine's busy share in between
    awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
        d = y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0)}'
}

rss_kib() { # rss_kib PID FIELD: VmRSS, RssAnon or RssFile in KiB
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

median() { # median N...: the median (the lower middle of an even count)
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}

# med KIND TARGET OP C: the median over runs 1..$RUNS of the caller's associative array KIND,
# whose keys are "TARGET,OP,C,RUN" (resp_vs_redis.sh, etcd_vs_synod.sh)
med() {
    local -n arr=$1
    local vals=() r
    for r in $(seq 1 "$RUNS"); do
        vals+=("${arr[$2,$3,$4,$r]}")
    done
    median "${vals[@]}"
}

fmt_int() { printf "%'.0f" "$1"; } # fmt_int N: N rounded, with thousands separators

ratio() { # ratio A B: A/B with two decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0) printf "%.2f", a / b; else print "n/a"}'
}
