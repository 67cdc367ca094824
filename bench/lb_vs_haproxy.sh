#!/usr/bin/env bash
# lb_vs_haproxy.sh: synod lb (TCP, round-robin) against Debian's HAProxy 2.6 (mode tcp,
# balance roundrobin, its default of one thread a CPU), side by side in one run, in front of
# the same 3 nginx backends (Debian's nginx, one worker each, a 100-byte static file, on
# three loopback ports), with one client: wrk -t2 -c64 (keep-alive).
#
# 1. Throughput: wrk straight to one nginx (for reference), through HAProxy, through synod
#    lb, one after the other, RUNS times, SECONDS each; the medians of req/s and p99, and
#    synod lb / HAProxy.
# 2. Kill one backend under that load: wrk for KILL_SECONDS, `kill -9` of one nginx (master
#    and worker) 3 s in. Counted: failed client requests (wrk's socket errors and non-2xx
#    answers), and the time until the proxy stops routing to it, from polling each 5 ms:
#      synod lb: the real registry: a synod agent whose instances have a TCP check every
#        100 ms; synod lb learns a critical check by its blocking query. Also passive health:
#        2 refused connects in a row mark the backend down in each thread. Without and with
#        --replay (an unanswered request whose backend died goes to another).
#      HAProxy: `check inter 200 fall 2`; without and with `option redispatch` (retries 3).
#    Each setup KILLS times, the killed nginx started again in between.
#
#   bench/lb_vs_haproxy.sh [--quick] [--runs N] [--seconds S] [--kills N]
#     default: 3 runs of 10 s, 3 kills a setup; --quick (make bench): 1 run of 5 s, 1 kill
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=3
SECONDS_PER_TEST=10
KILLS=3
KILL_SECONDS=10
KILL_AT_S=3
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) RUNS=1 SECONDS_PER_TEST=5 KILLS=1 KILL_SECONDS=8 ;;
    --runs) RUNS=$2 && shift ;;
    --seconds) SECONDS_PER_TEST=$2 && shift ;;
    --kills) KILLS=$2 && shift ;;
    *) echo "usage: bench/lb_vs_haproxy.sh [--quick] [--runs N] [--seconds S] [--kills N]" >&2
        exit 2 ;;
    esac
    shift
done

# HAProxy, nginx and wrk are bench-only dependencies (as redis-server and etcd are): installed
# here when missing (where systemd runs, the packages start their own services on :80: no
# clash).
lb_need_tools() {
    local missing=() need
    for need in haproxy:haproxy nginx:nginx wrk:wrk curl:curl; do
        command -v "${need%%:*}" >/dev/null 2>&1 || missing+=("${need#*:}")
    done
    bench_apt_install "${missing[@]}"
}
lb_need_tools
NODE_COUNT=1 # one agent is the registry
bench_setup lb $((RUNS * 3 * (SECONDS_PER_TEST + 5) + 4 * KILLS * (KILL_SECONDS + 20) + 300))

# Ports: bench/lib.sh's block (the agent: +1 peer, +11 RESP, +21 HTTP), then +31..+33 nginx,
# +34 HAProxy, +35 HAProxy with redispatch, +36/+37 synod lb and its stats, +38/+39 synod lb
# --replay and its stats.
nginx_port() { echo $((BASE_PORT + 30 + $1)); }
HAPROXY_PORT=$((BASE_PORT + 34)) HAPROXY_RD_PORT=$((BASE_PORT + 35))
LB_PORT=$((BASE_PORT + 36)) LB_STATS=$((BASE_PORT + 37))
LB_RP_PORT=$((BASE_PORT + 38)) LB_RP_STATS=$((BASE_PORT + 39))
for p in $(seq 31 39); do
    port_busy $((BASE_PORT + p)) && bench_die "port $((BASE_PORT + p)) is in use"
done
declare -a NGINX_PID
HAPROXY_PID="" HAPROXY_RD_PID="" LB_PID="" LB_RP_PID=""

lb_cleanup() {
    local pid
    {
        for pid in "${NGINX_PID[@]:-}"; do
            [ -n "$pid" ] && kill -9 "$pid" $(pgrep -P "$pid") # master first: no respawn
        done
        for pid in "$HAPROXY_PID" "$HAPROXY_RD_PID" "$LB_PID" "$LB_RP_PID"; do
            [ -n "$pid" ] && kill -9 "$pid"
        done
        for pid in "${NGINX_PID[@]:-}" "$HAPROXY_PID" "$HAPROXY_RD_PID" "$LB_PID" "$LB_RP_PID"; do
            [ -n "$pid" ] && wait "$pid"
        done
    } 2>/dev/null
    bench_cleanup
}
trap lb_cleanup EXIT

wait_port() { # wait_port PORT SECONDS
    local deadline=$((SECONDS + $2))
    until port_busy "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

# ---- nginx ----------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR/www"
head -c 100 /dev/zero | tr '\0' x >"$BENCH_DIR/www/index.html"
chmod a+x "$BENCH_DIR" # nginx's workers run as nobody: they must reach www
chmod a+rx "$BENCH_DIR/www"
chmod a+r "$BENCH_DIR/www/index.html"

nginx_start() { # nginx_start I: one nginx, one worker, master in the foreground
    local i=$1 d="$BENCH_DIR/nginx-$1"
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server { listen 127.0.0.1:$(nginx_port "$i"); root $BENCH_DIR/www; }
}
EOF
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >>"$d/out.log" 2>&1 &
    NGINX_PID[$i]=$!
    wait_port "$(nginx_port "$i")" 10 || bench_die "nginx $i did not start"
}

# The master first, then its workers: a master that outlived a worker would start another.
nginx_pids() { echo "${NGINX_PID[$1]} $(pgrep -P "${NGINX_PID[$1]}")"; }

nginx_kill() { # nginx_kill I [PIDS]: kill -9 of its worker and master, reaped
    local m=${NGINX_PID[$1]}
    kill -9 ${2:-$(nginx_pids "$1")} 2>/dev/null
    wait "$m" 2>/dev/null
    NGINX_PID[$1]=""
}

# ---- HAProxy ------------------------------------------------------------------------------
haproxy_start() { # haproxy_start NAME PORT [EXTRA LINE]: its pid in STARTED
    local name=$1 port=$2 extra=${3:-} i
    {
        printf 'global\n    maxconn 8000\n    stats socket %s/%s.sock level admin\n' \
            "$BENCH_DIR" "$name"
        printf 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n'
        printf '    timeout server 30s\n%s\n' "$extra"
        printf 'frontend fe\n    bind 127.0.0.1:%s\n    default_backend be\n' "$port"
        printf 'backend be\n    balance roundrobin\n'
        for i in 1 2 3; do
            printf '    server s%s 127.0.0.1:%s check inter 200 fall 2\n' "$i" "$(nginx_port "$i")"
        done
    } >"$BENCH_DIR/$name.cfg"
    haproxy -f "$BENCH_DIR/$name.cfg" -db >>"$BENCH_DIR/$name.log" 2>&1 &
    STARTED=$!
}

# ---- The registry and synod lb --------------------------------------------------------------
agent_http() { echo "127.0.0.1:$(http_port 1)"; }

register() { # register I: web-I with a TCP check every 100 ms, passing to begin with
    local port
    port=$(nginx_port "$1")
    curl -sf --max-time 10 -X PUT "http://$(agent_http)/v1/agent/service/register" -d \
        "{\"ID\":\"web-$1\",\"Name\":\"web\",\"Address\":\"127.0.0.1\",\"Port\":$port,\"Check\":{\"TCP\":\"127.0.0.1:$port\",\"Interval\":\"100ms\",\"Timeout\":\"1s\",\"Status\":\"passing\"}}" \
        >/dev/null
}

lb_start() { # lb_start PORT STATS [FLAGS]: its pid in STARTED
    local port=$1 stats=$2
    shift 2
    "$SYNOD" lb --service web --listen "127.0.0.1:$port" --stats-addr "127.0.0.1:$stats" \
        --addr "$(agent_http)" "$@" >>"$BENCH_DIR/lb-$port.log" 2>&1 &
    STARTED=$!
}

# ---- Polls: is the killed backend still routed to? ------------------------------------------
# poll KIND ADDR BACKEND T0_FILE SECONDS: polls every 5 ms from now, and once T0_FILE holds the
# time of the kill (epoch seconds), for SECONDS after it; prints "DOWN GONE": ms after the kill
# until the backend was not taken any more (synod: marked down or gone; HAProxy: DOWN), and
# until it was gone from the registry's list (synod; "-" else). Started before the kill, so
# that Python's start-up is not counted.
poll() {
    python3 - "$@" <<'PY'
import json, os, socket, sys, time, urllib.request
kind, addr, backend, t0_file, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
down = gone = None
t0 = None
def synod():
    with urllib.request.urlopen("http://%s/stats" % addr, timeout=1) as r:
        s = json.load(r)
    st = [b["state"] for b in s["backends"] if b["id"] == backend]
    return (not st or st[0] != "up"), (not st or st[0] == "draining")
def haproxy():
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(1)
    c.connect(addr)
    c.sendall(b"show stat\n")
    data = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.close()
    for line in data.decode().splitlines():
        f = line.split(",")
        if len(f) > 17 and f[1] == backend:
            return f[17].startswith("DOWN"), False
    return False, False
start = time.time()
while time.time() < (t0 + limit if t0 is not None else start + 60):
    try:
        d, g = synod() if kind == "synod" else haproxy()
    except OSError:
        d, g = False, False
    seen = time.time()
    if t0 is None:
        try:
            t0 = float(open(t0_file).read())
        except (OSError, ValueError):
            time.sleep(0.005)
            continue
    now = (seen - t0) * 1000
    if d and down is None:
        down = now
    if g and gone is None:
        gone = now
    if down is not None and (kind != "synod" or gone is not None):
        break
    time.sleep(0.005)
fmt = lambda v: "%.0f" % v if v is not None else "-"
print(fmt(down), fmt(gone))
PY
}

# ---- wrk --------------------------------------------------------------------------------------
# wrk_run PORT SECONDS OUT: wrk -t2 -c64 with latency percentiles into OUT
wrk_run() {
    timeout $(($2 + 30)) wrk -t2 -c64 -d"$2"s --latency "http://127.0.0.1:$1/" >"$3" 2>&1
}
wrk_rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
wrk_p99() { # in ms
    awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+/, "", v);
        print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v)}' "$1"
}
wrk_errors() { # socket errors (connect, read, write, timeout) and non-2xx/3xx answers
    awk '/Socket errors/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10}
        /Non-2xx/ {e += $NF} END {print e + 0}' "$1"
}

# ---- Start everything ---------------------------------------------------------------------------
for i in 1 2 3; do nginx_start "$i"; done
haproxy_start haproxy "$HAPROXY_PORT"
HAPROXY_PID=$STARTED
haproxy_start haproxy-rd "$HAPROXY_RD_PORT" "    option redispatch
    retries 3"
HAPROXY_RD_PID=$STARTED
node_start 1
wait_stable_leader 20 >/dev/null || bench_die "the agent elected no leader"
for i in 1 2 3; do register "$i" || bench_die "cannot register web-$i"; done
lb_start "$LB_PORT" "$LB_STATS"
LB_PID=$STARTED
lb_start "$LB_RP_PORT" "$LB_RP_STATS" --replay
LB_RP_PID=$STARTED
up3() { # up3 STATS_PORT: synod lb sees web-1..3 up
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$1/stats" | grep -o '"state":"up"' | wc -l)" = 3 ]
}
haproxy_up3() { # haproxy_up3 NAME: the 3 servers UP
    [ "$(python3 -c 'import socket,sys; c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]);
c.sendall(b"show stat\n"); d=b""
while True:
    x=c.recv(65536)
    if not x: break
    d+=x
print(sum(1 for l in d.decode().splitlines() if l.split(",")[1:2] in (["s1"],["s2"],["s3"]) and l.split(",")[17]=="UP"))' \
        "$BENCH_DIR/$1.sock" 2>/dev/null)" = 3 ]
}
ready() { # ready SECONDS: everyone sees the 3 backends
    local deadline=$((SECONDS + $1))
    until up3 "$LB_STATS" && up3 "$LB_RP_STATS" && haproxy_up3 haproxy && haproxy_up3 haproxy-rd; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}
ready 30 || bench_die "the proxies do not see the 3 backends"
bench_machine
echo "haproxy: $(haproxy -v | head -n 1 | cut -d' ' -f1-3) ($(nproc) threads: its default);" \
    "$(nginx -v 2>&1 | cut -d' ' -f3); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2);" \
    "synod lb: $(grep -o '[0-9]* threads' "$BENCH_DIR/lb-$LB_PORT.log" | head -n 1 || echo "threads: default")"

# ---- 1. Throughput ------------------------------------------------------------------------------
declare -A RPS P99 ERR
TARGETS="nginx haproxy synod"
port_of() {
    case $1 in nginx) nginx_port 1 ;; haproxy) echo "$HAPROXY_PORT" ;; synod) echo "$LB_PORT" ;; esac
}
for r in $(seq 1 "$RUNS"); do
    for t in $TARGETS; do
        out="$BENCH_DIR/wrk-$t-$r.txt"
        wrk_run "$(port_of "$t")" "$SECONDS_PER_TEST" "$out" || bench_die "wrk against $t failed"
        RPS[$t,$r]=$(wrk_rps "$out") P99[$t,$r]=$(wrk_p99 "$out") ERR[$t,$r]=$(wrk_errors "$out")
        bench_log "run $r $t: ${RPS[$t,$r]} req/s, p99 ${P99[$t,$r]} ms, ${ERR[$t,$r]} errors"
    done
done
medof() { # medof ARRAY TARGET
    local -n a=$1
    local v=() r
    for r in $(seq 1 "$RUNS"); do v+=("${a[$2,$r]}"); done
    median "${v[@]}"
}
echo
echo "== throughput: wrk -t2 -c64 -d${SECONDS_PER_TEST}s, $RUNS runs, medians"
printf '%-34s %10s %9s %7s\n' target req/s "p99 ms" errors
label() {
    case $1 in
    nginx) echo "nginx direct (one of the three)" ;; haproxy) echo "HAProxy (mode tcp, roundrobin)" ;;
    synod) echo "synod lb (round-robin)" ;;
    esac
}
errsum=0
for t in $TARGETS; do
    e=0
    for r in $(seq 1 "$RUNS"); do e=$((e + ERR[$t,$r])); done
    errsum=$((errsum + e))
    printf '%-34s %10s %9s %7s\n' "$(label "$t")" "$(fmt_int "$(medof RPS "$t")")" \
        "$(medof P99 "$t")" "$e"
done
rps_ratio=$(ratio "$(medof RPS synod)" "$(medof RPS haproxy)")
p99_ratio=$(ratio "$(medof P99 synod)" "$(medof P99 haproxy)")
echo "target: synod lb / HAProxy throughput ${rps_ratio}x (target >= 1.0), p99 ${p99_ratio}x (target <= 1.0)"

# ---- 2. Kill one backend under load ---------------------------------------------------------------
# kill_once KIND PORT POLL_ADDR: one kill of nginx 2 under wrk; "FAILED DOWN GONE" in RESULT
# (not in a subshell: nginx 2 starts again here)
kill_once() {
    local kind=$1 port=$2 addr=$3 out="$BENCH_DIR/wrk-kill.txt" wpid ppid backend pids
    local t0="$BENCH_DIR/kill-time" det="$BENCH_DIR/kill-detect"
    backend=$([ "$kind" = synod ] && echo web-2 || echo s2)
    rm -f "$t0"
    poll "$kind" "$addr" "$backend" "$t0" 3 >"$det" &
    ppid=$!
    wrk_run "$port" "$KILL_SECONDS" "$out" &
    wpid=$!
    sleep "$KILL_AT_S"
    pids=$(nginx_pids 2) # before the time is taken: pgrep may be slow on a loaded machine
    echo "$EPOCHREALTIME" >"$t0.new" && mv "$t0.new" "$t0"
    nginx_kill 2 "$pids"
    wait "$ppid"
    wait "$wpid"
    RESULT="$(wrk_errors "$out") $(cat "$det")"
    nginx_start 2
    ready 30 || bench_die "the proxies do not see nginx 2 again"
}
declare -A KF KD KG
SETUPS="synod synod-replay haproxy haproxy-rd"
for k in $(seq 1 "$KILLS"); do
    for s in $SETUPS; do
        case $s in
        synod) kill_once synod "$LB_PORT" "127.0.0.1:$LB_STATS" ;;
        synod-replay) kill_once synod "$LB_RP_PORT" "127.0.0.1:$LB_RP_STATS" ;;
        haproxy) kill_once haproxy "$HAPROXY_PORT" "$BENCH_DIR/haproxy.sock" ;;
        haproxy-rd) kill_once haproxy "$HAPROXY_RD_PORT" "$BENCH_DIR/haproxy-rd.sock" ;;
        esac
        read -r KF[$s,$k] KD[$s,$k] KG[$s,$k] <<<"$RESULT"
        bench_log "kill $k $s: ${KF[$s,$k]} failed requests; not routed after ${KD[$s,$k]} ms," \
            "gone from the registry's list after ${KG[$s,$k]} ms"
    done
done
kmed() { # kmed ARRAY SETUP: the median over the kills ("-" when a value is missing)
    local -n a=$1
    local v=() k
    for k in $(seq 1 "$KILLS"); do
        [ "${a[$2,$k]}" = - ] && echo - && return 0
        v+=("${a[$2,$k]}")
    done
    median "${v[@]}"
}
kmax() {
    local -n a=$1
    local m=0 k
    for k in $(seq 1 "$KILLS"); do
        [ "${a[$2,$k]}" = - ] && echo - && return 0
        [ "${a[$2,$k]}" -gt "$m" ] && m=${a[$2,$k]}
    done
    echo "$m"
}
echo
echo "== kill -9 one of 3 nginx under load: wrk -t2 -c64 -d${KILL_SECONDS}s, kill at ${KILL_AT_S} s," \
    "$KILLS kills a setup, medians (max)"
printf '%-44s %16s %18s %16s\n' setup "not routed, ms" "registry drop, ms" "failed requests"
klabel() {
    case $1 in
    synod) echo "synod lb (TCP check 100 ms, passive health)" ;;
    synod-replay) echo "synod lb --replay" ;;
    haproxy) echo "HAProxy (check inter 200 fall 2)" ;;
    haproxy-rd) echo "HAProxy + option redispatch, retries 3" ;;
    esac
}
for s in $SETUPS; do
    printf '%-44s %16s %18s %16s\n' "$(klabel "$s")" "$(kmed KD "$s") ($(kmax KD "$s"))" \
        "$(kmed KG "$s") ($(kmax KG "$s"))" "$(kmed KF "$s") ($(kmax KF "$s"))"
done
echo "target: synod lb stops routing to a killed backend after $(kmax KD synod-replay) ms at most" \
    "(target <= 300; the registry drops it after $(kmax KG synod-replay) ms), failed requests per" \
    "kill $(kmax KF synod-replay) at most with --replay, $(kmax KF synod) without (target <= 5);" \
    "HAProxy: $(kmed KD haproxy) ms, $(kmed KF haproxy) failed ($(kmed KF haproxy-rd) with redispatch)"
echo "errors: $errsum failed requests in the throughput runs"
[ "$errsum" = 0 ]
