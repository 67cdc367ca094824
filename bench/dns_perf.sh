#!/usr/bin/env bash
# dns_perf.sh: synod's DNS answering from the real registry. Three agents on loopback, each
# with --dns-addr; ten instances of "web" registered through node 1's HTTP API (each with a
# TCP check against a port that listens, so all ten are passing), read back through DNS on
# every node first. Then dnsperf (Debian's) asks one node at a time, over UDP, for
# web.service.synod A and SRV in turn (every answer: 10 records, order rotated), with 1 and 4
# clients, RUNS times SECONDS each; the figure is the median of the runs. Lost queries and any
# rcode other than NOERROR are errors. Not part of `make test`; figures go to docs/dns.md.
#
#   bench/dns_perf.sh [--quick] [--runs N] [--seconds S]
#     default: 3 runs of 10 s per test; --quick (make bench): 1 run of 5 s
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=3
SECONDS_PER_TEST=10
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) RUNS=1 SECONDS_PER_TEST=5 ;;
    --runs) RUNS=$2 && shift ;;
    --seconds) SECONDS_PER_TEST=$2 && shift ;;
    *) echo "usage: bench/dns_perf.sh [--quick] [--runs N] [--seconds S]" >&2; exit 2 ;;
    esac
    shift
done
missing=() # bench-only tools, installed like redis-server (bench/lib.sh)
command -v dnsperf >/dev/null 2>&1 || missing+=(dnsperf)
command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
bench_apt_install "${missing[@]}"

bench_setup dns $((120 + RUNS * 2 * 3 * (SECONDS_PER_TEST + 5)))
dns_port() { echo $((BASE_PORT + 24 + $1)); } # BASE+25..27: free in bench_pick_ports' block
for i in $(seq 1 "$NODE_COUNT"); do
    port_busy "$(dns_port "$i")" && bench_die "port $(dns_port "$i") is busy"
    node_start "$i" --dns-addr "127.0.0.1:$(dns_port "$i")"
done
wait_stable_leader >/dev/null || bench_die "no leader"

# Something that listens, for the TCP checks: the agent's own HTTP port.
target=$(http_port 1)
for k in $(seq 1 10); do
    body=$(printf '{"ID":"web-%d","Name":"web","Address":"127.0.0.%d","Port":%d,"Tags":["v1"],"Check":{"TCP":"127.0.0.1:%d","Interval":"1s"}}' \
        "$k" $((10 + k)) "$target" "$target")
    curl -sf -X PUT --data "$body" "http://127.0.0.1:$(http_port 1)/v1/agent/service/register" \
        >/dev/null || bench_die "registering web-$k failed"
done
for i in $(seq 1 "$NODE_COUNT"); do
    ok=0
    for _ in $(seq 1 100); do
        n=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$(dns_port "$i")" web.service.synod A | grep -c .)
        [ "$n" = 10 ] && ok=1 && break
        sleep 0.1
    done
    [ "$ok" = 1 ] || bench_die "node $i: web.service.synod has $n A records, not 10"
done
bench_log "10 passing instances of web answered by DNS on every node"
bench_machine

queries=$BENCH_DIR/queries
printf 'web.service.synod A\nweb.service.synod SRV\n' >"$queries"

declare -A QPS LOST LAT
for r in $(seq 1 "$RUNS"); do
    for c in 1 4; do
        for i in 1 2; do # the leader or a follower: whichever; both answer locally
            out=$(dnsperf -s 127.0.0.1 -p "$(dns_port "$i")" -d "$queries" -c "$c" -T "$c" \
                -l "$SECONDS_PER_TEST" -t 2 2>&1)
            qps=$(echo "$out" | awk '/Queries per second/ {print int($4)}')
            sent=$(echo "$out" | awk '/Queries sent/ {print $3}')
            lost=$(echo "$out" | awk '/Queries lost/ {print $3}')
            noerr=$(echo "$out" | awk '/Response codes/ {for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1)}')
            lat=$(echo "$out" | awk '/Average Latency/ {print $4 * 1000}')
            completed=$(echo "$out" | awk '/Queries completed/ {print $3}')
            other=$((completed - ${noerr:-0}))
            printf '  run %d  node %d  clients %d  %7s qps  lost %s of %s  non-NOERROR %d  avg %.3f ms\n' \
                "$r" "$i" "$c" "$qps" "$lost" "$sent" "$other" "$lat"
            QPS[$c]+="$qps "
            LOST[$c]=$(( ${LOST[$c]:-0} + lost + other ))
            LAT[$c]+="$lat "
        done
    done
done
echo
echo "dnsperf, web.service.synod A and SRV (10 instances from the registry), UDP, $RUNS x 2 nodes x $SECONDS_PER_TEST s:"
for c in 1 4; do
    printf '  %d client(s): median %s qps, avg latency median %s ms, errors (lost + non-NOERROR) %d\n' \
        "$c" "$(fmt_int "$(median ${QPS[$c]})")" "$(median ${LAT[$c]})" "${LOST[$c]}"
done
errors=$(( ${LOST[1]} + ${LOST[4]} ))
echo "target: DNS, dnsperf for a service with 10 instances: $(fmt_int "$(median ${QPS[1]})") qps" \
    "with 1 client, $(fmt_int "$(median ${QPS[4]})") with 4 (reported); errors $errors"
[ "$errors" -eq 0 ]
