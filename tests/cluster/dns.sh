#!/usr/bin/env bash
# dns.sh: the agents' DNS server with real dig: A and SRV records of healthy instances only,
# rotated per query, tags, node names, NXDOMAIN, the consul domain, truncation over UDP and the
# full answer over TCP, and malformed packets dropped while the server keeps answering.
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

dns_port() { echo $((BASE_PORT + 300 + $1)); }
cluster_start 3
for i in 1 2 3; do node_kill "$i"; done
for i in 1 2 3; do node_start "$i" 3 --dns-addr "127.0.0.1:$(dns_port "$i")"; done
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
h1="http://127.0.0.1:$(http_port 1)"
d2=(dig @127.0.0.1 -p "$(dns_port 2)" +time=2 +tries=1)

register() { # register ID ADDRESS PORT TAG STATUS
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT "$h1/v1/agent/service/register" \
        -d "{\"Name\":\"web\",\"ID\":\"$1\",\"Address\":\"$2\",\"Port\":$3,\"Tags\":[\"$4\"],\"Check\":{\"TTL\":\"600s\",\"Status\":\"$5\"}}")
    [ "$code" = 200 ] || fail "register $1: $code"
}
register web-1 127.0.0.11 9001 blue passing
register web-2 127.0.0.12 9002 green passing
register web-3 127.0.0.13 9003 green critical

a=$("${d2[@]}" +short web.service.synod A | sort | tr '\n' ' ')
[ "$a" = "127.0.0.11 127.0.0.12 " ] || fail "A records of healthy instances: '$a'"
srv=$("${d2[@]}" +short web.service.synod SRV | sort | tr '\n' ' ')
echo "$srv" | grep -q " 9001 " && echo "$srv" | grep -q " 9002 " && ! echo "$srv" | grep -q 9003 ||
    fail "SRV records: '$srv'"
[ "$("${d2[@]}" +short green.web.service.synod A)" = 127.0.0.12 ] || fail "tag lookup"
[ "$("${d2[@]}" +short n3.node.synod A)" = 127.0.0.1 ] || fail "node lookup"
[ "$("${d2[@]}" +short _web._tcp.service.synod SRV | wc -l)" = 2 ] || fail "RFC 2782 lookup"
"${d2[@]}" nope.service.synod A | grep -q "status: NXDOMAIN" || fail "NXDOMAIN for an unknown service"
firsts=""
for _ in 1 2 3 4; do firsts="$firsts$("${d2[@]}" +short web.service.synod A | head -1) "; done
echo "$firsts" | grep -q 127.0.0.11 && echo "$firsts" | grep -q 127.0.0.12 ||
    fail "the order does not rotate: $firsts"
echo "A, SRV, tags, nodes, NXDOMAIN and rotation: ok"

# A check that turns critical takes the instance out of DNS at once (TTL 0).
curl -s -o /dev/null --max-time 10 -X PUT "$h1/v1/agent/check/fail/service:web-1"
[ "$("${d2[@]}" +short web.service.synod A)" = 127.0.0.12 ] || fail "a failed instance is still answered"
curl -s -o /dev/null --max-time 10 -X PUT "$h1/v1/agent/check/pass/service:web-1"

# Many instances: UDP answers are truncated (TC), TCP gives them all.
for i in $(seq 10 49); do register "big-$i" "127.0.1.$i" 9100 big passing; done
udp=$("${d2[@]}" +ignore +noedns big.web.service.synod A)
echo "$udp" | grep -q "flags:.* tc" || fail "no TC over UDP for 40+ instances"
[ "$("${d2[@]}" +tcp +short big.web.service.synod A | wc -l)" = 40 ] || fail "TCP does not give all 40"
echo "truncation over UDP, the whole answer over TCP: ok"

# Garbage datagrams are dropped and the server keeps answering.
python3 - "$(dns_port 2)" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(300):
    s.sendto(os.urandom(n % 600), ("127.0.0.1", int(sys.argv[1])))
PY
[ "$("${d2[@]}" +short green.web.service.synod A)" = 127.0.0.12 ] || fail "not answering after garbage"
echo "garbage datagrams dropped: ok"
cluster_stop
echo "PASS dns"
