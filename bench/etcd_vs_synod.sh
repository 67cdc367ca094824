#!/usr/bin/env bash
# etcd_vs_synod.sh: synod's Consul-style HTTP KV API against etcd 3.4's v3 JSON gateway, side
# by side in one run on one machine with one client. Three synod agents and three etcd members
# (Debian's etcd-server), all on loopback, fsync on (both defaults), their data dirs in one
# temporary directory on one filesystem. The client is wrk with one Lua script
# (bench/kv_wrk.lua): synod PUT/GET /v1/kv/<key> (linearizable GET, Consul's default in
# synod) against etcd POST /v3/kv/put and /v3/kv/range (linearizable by default), 16-byte
# keys over 10,000 keys, 128-byte values, at 1, 16 and 64 connections, each against the
# leader. Every key is written once first (wrk, KV_OP=load), so every read hits; then, RUNS
# times, for each connection count: etcd PUT, synod PUT, etcd GET, synod GET, back to back
# (so a neighbour's load hits both alike), SECONDS each. Each figure is the median of the runs.
#
# Errors: any status outside 2xx, a synod PUT not answered `true`, an etcd range with no kvs
# (a read that missed), a socket error and a wrk timeout (5 s) each count one, per run.
#
# CPU: each target's three processes, from /proc/PID/stat (user + kernel), per request, and
# the kernel's share of it. --syscalls also counts, with `perf stat` on the three processes
# during each test, the system calls per request (the tracepoints slow both a little: take
# the throughput from a run without it).
#
#   bench/etcd_vs_synod.sh [--quick] [--runs N] [--seconds S] [--conns "1 16 64"] [--syscalls]
#     default: 3 runs of 10 s per test; --quick (make bench): 1 run of 5 s per test
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=3
SECONDS_PER_TEST=10
CONNS="1 16 64"
KEYS=10000
VALUE_SIZE=128
LUA=bench/kv_wrk.lua
SYSCALLS=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) RUNS=1 SECONDS_PER_TEST=5 ;;
    --runs) RUNS=$2 && shift ;;
    --seconds) SECONDS_PER_TEST=$2 && shift ;;
    --conns) CONNS=$2 && shift ;;
    --syscalls) SYSCALLS=1 ;;
    *) echo "usage: bench/etcd_vs_synod.sh [--quick] [--runs N] [--seconds S] [--conns LIST]" \
        "[--syscalls]" >&2
        exit 2 ;;
    esac
    shift
done
NCONNS=$(echo "$CONNS" | wc -w)
if [ "$SYSCALLS" = 1 ] && ! command -v perf >/dev/null 2>&1; then
    echo "bench: --syscalls needs perf (apt-get install linux-perf)" >&2
    exit 1
fi

# etcd, its client and wrk are bench-only dependencies, like redis-server (bench/lib.sh).
etcd_need_tools() {
    local missing=()
    command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
    command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    # (where systemd runs, the package also starts its own etcd service, on 2379/2380: no clash)
    bench_apt_install "${missing[@]}"
}
etcd_need_tools
# one test's bound: the run, wrk's start (10,000 requests built per thread) and its last
# timeouts; the whole script's: every test, the load, the start-up and the tables
TEST_MAX_S=$((SECONDS_PER_TEST + 60))
bench_setup etcd $((RUNS * NCONNS * 4 * (SECONDS_PER_TEST + 15) + 600))

# ---- etcd ---------------------------------------------------------------------------------
# Ports: bench/lib.sh's block, BASE+31..33 client and BASE+34..36 peer (lib.sh uses +1..+30;
# the next block starts at +40), so they stay clear of tests/cluster (20000 and up).
etcd_client_port() { echo $((BASE_PORT + 30 + $1)); }
etcd_peer_port() { echo $((BASE_PORT + 33 + $1)); }
etcd_ports_free() {
    local i
    for i in 1 2 3; do
        port_busy "$(etcd_client_port "$i")" && return 1
        port_busy "$(etcd_peer_port "$i")" && return 1
    done
    return 0
}
for _ in $(seq 1 20); do
    etcd_ports_free && break
    bench_pick_ports
done
etcd_ports_free || bench_die "no free ports for etcd"

declare -a ETCD_PIDS
PERF_PID=""
etcd_cleanup() {
    local pid
    for pid in "${ETCD_PIDS[@]:-}" "$PERF_PID"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
}
trap 'etcd_cleanup; bench_cleanup' EXIT

etcd_start() {
    local i cluster=""
    for i in 1 2 3; do
        cluster="${cluster:+$cluster,}e$i=http://127.0.0.1:$(etcd_peer_port "$i")"
    done
    for i in 1 2 3; do
        etcd --name "e$i" --data-dir "$BENCH_DIR/e$i" \
            --listen-client-urls "http://127.0.0.1:$(etcd_client_port "$i")" \
            --advertise-client-urls "http://127.0.0.1:$(etcd_client_port "$i")" \
            --listen-peer-urls "http://127.0.0.1:$(etcd_peer_port "$i")" \
            --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer_port "$i")" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token "synod-bench-$BASE_PORT" \
            --logger zap --log-outputs stderr --log-level warn >"$BENCH_DIR/e$i.log" 2>&1 &
        ETCD_PIDS[$i]=$!
    done
}

# etcd_post I PATH JSON: a request to member I's JSON gateway, 5 s at most
etcd_post() {
    timeout 5 curl -sS -m 4 -X POST -H 'Content-Type: application/json' \
        "http://127.0.0.1:$(etcd_client_port "$1")$2" -d "$3" 2>&1
}

json_field() { # json_field FIELD: a top-level or header field of the JSON on stdin
    python3 -c 'import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
f = sys.argv[1]
v = d.get(f, d.get("header", {}).get(f, ""))
print(v)' "$1"
}

# etcd_leader [SECONDS]: the index of the member every member names as leader
etcd_leader() {
    local deadline=$((SECONDS + ${1:-20})) i out id leader l ok found
    while [ $SECONDS -lt $deadline ]; do
        ok=1 leader="" l="" found=""
        for i in 1 2 3; do
            out=$(etcd_post "$i" /v3/maintenance/status '{}')
            id=$(echo "$out" | json_field member_id)
            l=$(echo "$out" | json_field leader)
            if [ -z "$l" ] || [ "$l" = 0 ] || { [ -n "$leader" ] && [ "$l" != "$leader" ]; }; then
                ok=0
                break
            fi
            leader=$l
            [ "$id" = "$l" ] && found=$i
        done
        if [ "$ok" = 1 ] && [ -n "$found" ]; then
            echo "$found"
            return 0
        fi
        sleep 0.2
    done
    return 1
}

etcd_raft_term() { etcd_post "$1" /v3/maintenance/status '{}' | json_field raft_term; }

# ---- start both ---------------------------------------------------------------------------
echo "== etcd_vs_synod: wrk -s $LUA, $KEYS keys of 16 bytes, $VALUE_SIZE-byte values," \
    "$RUNS runs of $SECONDS_PER_TEST s per test at $CONNS connections"
bench_machine
echo "etcd: $(etcd --version | head -n 1 | cut -d' ' -f3) ($(command -v etcd)), defaults" \
    "(fsync on: --unsafe-no-fsync not set); $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"

cluster_start
etcd_start
LEADER=$(wait_stable_leader 20) || bench_die "synod: no stable leader within 20 s"
ELEADER=$(etcd_leader 30) || bench_die "etcd: no leader named by every member within 30 s"
TERM0=$(raft_field "$LEADER" term)
ETERM0=$(etcd_raft_term "$ELEADER")
fstype() { df --output=fstype "$1" 2>/dev/null | tail -n 1; }
echo "data dirs: synod on $(fstype "$BENCH_DIR/n1"), etcd on $(fstype "$BENCH_DIR/e1")," \
    "both under $BENCH_DIR"
echo "synod: 3 agents, leader n$LEADER (term $TERM0), HTTP on port $(http_port "$LEADER");" \
    "etcd: 3 members, leader e$ELEADER (term $ETERM0), client port $(etcd_client_port "$ELEADER")"

synod_url() { echo "http://127.0.0.1:$(http_port "$1")"; }
etcd_url() { echo "http://127.0.0.1:$(etcd_client_port "$1")"; }

# Does synod at this commit serve /v1/kv? (It answers 404 for unknown paths.)
probe=$(timeout 5 curl -sS -m 4 -X PUT --data-binary probe "$(synod_url "$LEADER")/v1/kv/bench-probe" \
    -w ' %{http_code}' 2>&1)
[ "${probe##* }" = 200 ] || bench_die "synod PUT /v1/kv answered '$probe': no /v1/kv at this commit?"

# wrk_run TARGET OP CONNS SECONDS URL OUTFILE: one wrk invocation; prints its kv_wrk line
wrk_run() {
    local threads=2
    [ "$3" -lt 2 ] && threads=1
    KV_TARGET=$1 KV_OP=$2 KV_KEYS=$KEYS KV_VALUE_SIZE=$VALUE_SIZE timeout "$TEST_MAX_S" \
        wrk -t "$threads" -c "$3" -d "${4}s" --timeout 5s --latency -s "$LUA" "$5" >"$6" 2>&1
    grep '^kv_wrk' "$6"
}

# ---- load every key once --------------------------------------------------------------------
ERR_LOAD=0
for target in etcd synod; do
    if [ "$target" = etcd ]; then url=$(etcd_url "$ELEADER"); else url=$(synod_url "$LEADER"); fi
    out=$(KV_TARGET=$target KV_OP=load KV_KEYS=$KEYS KV_VALUE_SIZE=$VALUE_SIZE timeout 200 \
        wrk -t 1 -c 16 -d 180s --timeout 5s -s "$LUA" "$url" 2>&1)
    line=$(echo "$out" | grep '^kv_wrk-load')
    echo "load $target: ${line:-failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')}"
    echo "$line" | grep -q "keys=$KEYS answered=$KEYS ok=$KEYS bad_body=0" || ERR_LOAD=$((ERR_LOAD + 1))
done
# the last key, read back through a follower of each: the value written, base64 as both send it
want=$(printf '%s' "$(awk -v n="$VALUE_SIZE" 'BEGIN {for (i = 1; i <= n; i++)
    printf "%c", 97 + (i * 7) % 26}')" | base64 -w0)
last_key=$(printf 'key:%012d' $((KEYS - 1)))
sf=$(first_follower "$LEADER")
ef=$(first_follower "$ELEADER")
# value_of PATH: the base64 value at PATH ("0.Value", "kvs.0.value") in the JSON on stdin
value_of() {
    python3 -c 'import json, sys
raw = sys.stdin.read()
try:
    v = json.loads(raw)
    for part in sys.argv[1].split("."):
        v = v[int(part)] if part.isdigit() else v[part]
    print(v)
except (ValueError, KeyError, IndexError, TypeError):
    print("unreadable: " + raw[:80].replace("\n", " "))' "$1"
}
got_synod=$(timeout 5 curl -sS -m 4 "$(synod_url "$sf")/v1/kv/$last_key" 2>&1 | value_of 0.Value)
got_etcd=$(etcd_post "$ef" /v3/kv/range "{\"key\":\"$(printf '%s' "$last_key" | base64 -w0)\"}" |
    value_of kvs.0.value)
for t in synod etcd; do
    got=got_$t
    if [ "${!got}" = "$want" ]; then
        echo "check: $last_key read on a $t follower has the value written"
    else
        echo "check: $last_key on a $t follower: '${!got}', expected '$want'"
        ERR_LOAD=$((ERR_LOAD + 1))
    fi
done

# ---- the runs -------------------------------------------------------------------------------
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -A RPS P50 P99 CPU KERN BUSY ERRS SYSC
ERRS[etcd]=0 ERRS[synod]=0
INVOCATIONS=0
# the system calls counted by --syscalls: a name for the tables, then perf's events
SC_NAMES="all fsync write read pwrite futex"
declare -A SC_EVENTS=([all]=raw_syscalls:sys_enter
    [fsync]=syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync
    [write]=syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendmsg
    [read]=syscalls:sys_enter_read,syscalls:sys_enter_recvmsg
    [pwrite]=syscalls:sys_enter_pwrite64 [futex]=syscalls:sys_enter_futex)

target_pids() { # target_pids TARGET: its three pids, comma-separated
    if [ "$1" = etcd ]; then
        echo "${ETCD_PIDS[1]},${ETCD_PIDS[2]},${ETCD_PIDS[3]}"
    else
        echo "${PIDS[1]},${PIDS[2]},${PIDS[3]}"
    fi
}

target_cpu() { # target_cpu TARGET: "USER KERNEL" CPU ticks of its three processes
    local pids pid files=()
    pids=$(target_pids "$1")
    for pid in ${pids//,/ }; do
        files+=("/proc/$pid/stat")
    done
    awk '{u += $14; k += $15} END {print u + 0, k + 0}' "${files[@]}" 2>/dev/null
}

# perf_start TARGET LABEL, then perf_stop, then perf_counts LABEL N: count system calls on the
# target's processes
perf_start() {
    local events=() name
    for name in $SC_NAMES; do
        events+=("${SC_EVENTS[$name]}")
    done
    perf stat -x, -e "$(IFS=,; echo "${events[*]}")" -p "$(target_pids "$1")" \
        -o "$BENCH_DIR/perf.$2" >/dev/null 2>&1 &
    PERF_PID=$!
}
perf_stop() { # in this shell, not a subshell: only the parent can wait for perf
    kill -INT "$PERF_PID" 2>/dev/null
    wait "$PERF_PID" 2>/dev/null
    PERF_PID=""
}
perf_counts() { # prints NAME=COUNT_PER_REQUEST for each of SC_NAMES
    local name e
    for name in $SC_NAMES; do
        e=${SC_EVENTS[$name]}
        awk -F, -v events=",$e," -v n="$2" -v name="$name" '
            index(events, "," $3 ",") {t += $1}
            END {printf "%s=%.2f\n", name, (n > 0 ? t / n : 0)}' "$BENCH_DIR/perf.$1"
    done
}

kv_field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; } # kv_field LINE NAME

# run_one TARGET OP CONNS RUN
run_one() {
    local target=$1 op=$2 c=$3 run=$4 url line c0 c1 m0 m1 n errs label sc="" kv u0 k0 u1 k1
    label=$target-$op-c$c-r$run
    if [ "$target" = etcd ]; then url=$(etcd_url "$ELEADER"); else url=$(synod_url "$LEADER"); fi
    [ "$SYSCALLS" = 1 ] && perf_start "$target" "$label"
    c0=$(target_cpu "$target")
    m0=$(cpu_jiffies)
    line=$(wrk_run "$target" "$op" "$c" "$SECONDS_PER_TEST" "$url" "$BENCH_DIR/wrk-$label.out")
    m1=$(cpu_jiffies)
    c1=$(target_cpu "$target")
    INVOCATIONS=$((INVOCATIONS + 1))
    n=$(kv_field "$line" requests)
    if [ -z "$line" ] || [ -z "$n" ]; then
        echo "    wrk failed: $(tail -n 3 "$BENCH_DIR/wrk-$label.out" | tr '\n' ' ')"
        errs=1 n=0
        RPS[$target,$op,$c,$run]=0 P50[$target,$op,$c,$run]=0 P99[$target,$op,$c,$run]=0
    else
        errs=$(($(kv_field "$line" non2xx) + $(kv_field "$line" bad_body) +
            $(kv_field "$line" socket_errors) + $(kv_field "$line" timeouts)))
        RPS[$target,$op,$c,$run]=$(kv_field "$line" rps)
        P50[$target,$op,$c,$run]=$(kv_field "$line" p50_ms)
        P99[$target,$op,$c,$run]=$(kv_field "$line" p99_ms)
    fi
    ERRS[$target]=$((ERRS[$target] + errs))
    read -r u0 k0 <<<"$c0"
    read -r u1 k1 <<<"$c1"
    CPU[$target,$op,$c,$run]=$(awk -v t=$((u1 + k1 - u0 - k0)) -v us="$TICK_US" -v n="$n" \
        'BEGIN {if (n > 0) printf "%.1f", t * us / n; else print 0}')
    KERN[$target,$op,$c,$run]=$(awk -v k=$((k1 - k0)) -v t=$((u1 + k1 - u0 - k0)) \
        'BEGIN {printf "%.0f", (t > 0 ? 100 * k / t : 0)}')
    BUSY[$target,$op,$c,$run]=$(busy_pct "$m0" "$m1")
    if [ "$SYSCALLS" = 1 ]; then
        perf_stop
        for kv in $(perf_counts "$label" "$n"); do
            SYSC[$target.${kv%%=*},$op,$c,$run]=${kv#*=}
            sc="$sc ${kv%%=*} ${kv#*=}"
        done
        sc="  syscalls/req:$sc"
    fi
    printf '  run %d  %-5s %-3s c=%-2s %7s req/s  p50 %7s ms  p99 %8s ms  cpu %6s us/req (%2s%% kernel)  machine %3s%% busy  errors %d  statuses %s%s\n' \
        "$run" "$target" "$op" "$c" "${RPS[$target,$op,$c,$run]}" "${P50[$target,$op,$c,$run]}" \
        "${P99[$target,$op,$c,$run]}" "${CPU[$target,$op,$c,$run]}" \
        "${KERN[$target,$op,$c,$run]}" "${BUSY[$target,$op,$c,$run]}" "$errs" \
        "$(kv_field "$line" statuses)" "$sc"
}

# all_alive: every agent and member still runs; if not, says how each one that ended did
# (on a shared machine another job may kill processes by name: status 137 is a SIGKILL)
all_alive() {
    local i pid name gone=""
    for i in 1 2 3; do
        for name in "n$i" "e$i"; do
            if [ "${name:0:1}" = n ]; then pid=${PIDS[$i]}; else pid=${ETCD_PIDS[$i]}; fi
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null
                gone="$gone $name (pid $pid, exit status $?)"
            fi
        done
    done
    [ -z "$gone" ] || bench_die "ended during the run:$gone"
}

echo
for run in $(seq 1 "$RUNS"); do
    for c in $CONNS; do
        for op in put get; do
            all_alive
            l=$(raft_field "$LEADER" leader)
            if [ "$l" != "n$LEADER" ]; then
                echo "  synod leader changed: n$LEADER -> ${l:-none}"
                LEADER=$(wait_stable_leader 20) || bench_die "synod: no stable leader"
            fi
            el=$(etcd_leader 20) || bench_die "etcd: no leader"
            if [ "$el" != "$ELEADER" ]; then
                echo "  etcd leader changed: e$ELEADER -> e$el"
                ELEADER=$el
            fi
            run_one etcd "$op" "$c" "$run"
            run_one synod "$op" "$c" "$run"
        done
    done
done
TERM1=$(raft_field "$LEADER" term)
ETERM1=$(etcd_raft_term "$ELEADER")

# ---- tables ---------------------------------------------------------------------------------
lat() { printf '%s / %s' "$(med P50 "$1" "$2" "$3")" "$(med P99 "$1" "$2" "$3")"; }

echo
echo "Requests/s and latency p50 / p99 in ms, median of $RUNS runs of $SECONDS_PER_TEST s;" \
    "ratio = synod / etcd (requests/s; p99)"
echo
echo "| op  | conns | etcd req/s | etcd p50 / p99 ms | synod req/s | synod p50 / p99 ms | ratio req/s | ratio p99 |"
echo "|-----|------:|-----------:|------------------:|------------:|-------------------:|------------:|----------:|"
for op in put get; do
    for c in $CONNS; do
        e=$(med RPS etcd $op "$c")
        s=$(med RPS synod $op "$c")
        printf "| %-3s | %5s | %10s | %17s | %11s | %18s | %11s | %9s |\n" "${op^^}" "$c" \
            "$(fmt_int "$e")" "$(lat etcd $op "$c")" "$(fmt_int "$s")" "$(lat synod $op "$c")" \
            "$(ratio "$s" "$e")" "$(ratio "$(med P99 synod $op "$c")" "$(med P99 etcd $op "$c")")"
    done
done
echo
echo "CPU time per request in us, median of $RUNS runs (each: its three processes together;"
echo "in brackets the kernel's share), and how busy the whole machine was (all vCPUs; wrk and"
echo "other jobs included)"
echo
echo "| op  | conns | etcd us/req  | synod us/req | ratio | busy: etcd / synod |"
echo "|-----|------:|-------------:|-------------:|------:|-------------------:|"
for op in put get; do
    for c in $CONNS; do
        e=$(med CPU etcd $op "$c")
        s=$(med CPU synod $op "$c")
        printf "| %-3s | %5s | %12s | %12s | %5s | %18s |\n" "${op^^}" "$c" \
            "$e ($(med KERN etcd $op "$c")%)" "$s ($(med KERN synod $op "$c")%)" \
            "$(ratio "$s" "$e")" "$(med BUSY etcd $op "$c")% / $(med BUSY synod $op "$c")%"
    done
done
if [ "$SYSCALLS" = 1 ]; then
    echo
    echo "System calls per request, median of $RUNS runs (the three processes together; fsync:"
    echo "fdatasync + fsync; write: write, writev, sendmsg; read: read, recvmsg), etcd / synod"
    echo
    printf '| op  | conns |'
    for name in $SC_NAMES; do printf ' %15s |' "$name"; done
    echo
    printf '|-----|------:|'
    for name in $SC_NAMES; do printf '%s|' "----------------:"; done
    echo
    for op in put get; do
        for c in $CONNS; do
            printf "| %-3s | %5s |" "${op^^}" "$c"
            for name in $SC_NAMES; do
                printf ' %15s |' "$(med SYSC "etcd.$name" $op "$c") / $(med SYSC "synod.$name" $op "$c")"
            done
            echo
        done
    done
fi
if [ "$RUNS" -gt 1 ]; then
    echo
    echo "Ratio synod / etcd in req/s within each run (measured back to back)"
    echo
    echo "| op  | conns | run by run     |"
    echo "|-----|------:|----------------|"
    for op in put get; do
        for c in $CONNS; do
            l=""
            for r in $(seq 1 "$RUNS"); do
                l="$l $(ratio "${RPS[synod,$op,$c,$r]}" "${RPS[etcd,$op,$c,$r]}")"
            done
            printf "| %-3s | %5s | %-14s |\n" "${op^^}" "$c" "${l# }"
        done
    done
fi
echo
last_c=${CONNS##* }
put_ratio=$(ratio "$(med RPS synod put "$last_c")" "$(med RPS etcd put "$last_c")")
get_ratio=$(ratio "$(med RPS synod get "$last_c")" "$(med RPS etcd get "$last_c")")
p99_s=$(med P99 synod put "$last_c")
p99_e=$(med P99 etcd put "$last_c")
put_met=$(awk -v r="$put_ratio" -v s="$p99_s" -v e="$p99_e" \
    'BEGIN {print (r + 0 >= 5 && s + 0 < e + 0) ? "met" : "NOT met"}')
get_met=$(awk -v r="$get_ratio" 'BEGIN {print (r + 0 >= 5) ? "met" : "NOT met"}')
echo "target: PUT at $last_c conns, synod >= 5 x etcd with a lower p99: $put_ratio x," \
    "p99 $p99_s ms vs $p99_e ms ($put_met)"
echo "target: linearizable GET at $last_c conns, synod >= 5 x etcd: $get_ratio x ($get_met)"
echo "elections during the run: synod $((TERM1 - TERM0)) (term $TERM0 -> $TERM1)," \
    "etcd $((${ETERM1:-0} - ${ETERM0:-0})) (term $ETERM0 -> $ETERM1)"
echo "errors: etcd ${ERRS[etcd]}, synod ${ERRS[synod]} ($INVOCATIONS wrk runs: non-2xx, wrong" \
    "bodies, socket errors, timeouts); load and read-back check failures: $ERR_LOAD"
[ "${ERRS[etcd]}" = 0 ] && [ "${ERRS[synod]}" = 0 ] && [ "$ERR_LOAD" = 0 ]
