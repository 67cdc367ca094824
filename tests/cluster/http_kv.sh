#!/usr/bin/env bash
# http_kv.sh: Consul's KV API on real agents: curl for the wire details (status codes,
# headers, ?raw, limits, bad input) and Consul's own Python client (python3-consul) for
# put/get/cas/flags/recurse/keys/blocking queries/stale reads/delete (http_kv.py).
cd "$(dirname "$0")/../.."
. tests/cluster/lib.sh

cluster_start 3
wait_leader 1 15 >/dev/null || fail "no leader within 15 s"
h1="http://127.0.0.1:$(http_port 1)"
h2="http://127.0.0.1:$(http_port 2)"

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

[ "$(curl -s --max-time 10 -X PUT "$h1/v1/kv/greeting" -d hello)" = true ] || fail "PUT"
[ "$(curl -s --max-time 10 "$h2/v1/kv/greeting?raw")" = hello ] || fail "GET ?raw on n2"
headers=$(curl -s -D - -o /dev/null --max-time 10 "$h2/v1/kv/greeting")
echo "$headers" | grep -qi '^X-Consul-Index: [1-9]' || fail "no X-Consul-Index: $headers"
echo "$headers" | grep -qi '^X-Consul-KnownLeader: true' || fail "no X-Consul-KnownLeader"
echo "$headers" | grep -qi '^X-Consul-LastContact: [0-9]' || fail "no X-Consul-LastContact"
[ "$(code "$h2/v1/kv/absent")" = 404 ] || fail "absent key is not 404"
[ "$(code "$h2/v1/kv/absent?stale")" = 404 ] || fail "absent key, stale, is not 404"
[ "$(code -X POST "$h1/v1/kv/greeting")" = 405 ] || fail "POST is not 405"
[ "$(code -X PUT "$h1/v1/kv/")" = 400 ] || fail "PUT without a key is not 400"
[ "$(code "$h1/v1/kv/a?index=x")" = 400 ] || fail "a bad ?index is not 400"
[ "$(code "$h1/v1/kv/a?wait=soon")" = 400 ] || fail "a bad ?wait is not 400"
[ "$(code "$h1/v1/kv/%zz")" = 400 ] || fail "bad percent-encoding is not 400"
[ "$(code -X DELETE "$h1/v1/kv/a?recurse&cas=3")" = 400 ] || fail "recurse with cas is not 400"
head -c $((512 * 1024 + 1)) /dev/zero >"$CLUSTER_DIR/big"
[ "$(code -X PUT --data-binary @"$CLUSTER_DIR/big" "$h1/v1/kv/big")" = 413 ] ||
    fail "a value over 512 KiB is not 413"
head -c $((512 * 1024)) /dev/zero >"$CLUSTER_DIR/max"
[ "$(code -X PUT --data-binary @"$CLUSTER_DIR/max" "$h1/v1/kv/max")" = 200 ] ||
    fail "a value of exactly 512 KiB is refused"
[ "$(curl -s --max-time 10 "$h2/v1/kv/max?raw" | wc -c)" = $((512 * 1024)) ] ||
    fail "the 512 KiB value did not read back whole"
key=$(head -c 20000 /dev/zero | tr '\0' k)
[ "$(code "$h1/v1/kv/$key")" = 413 ] || fail "a key over 16 KiB is not 413"
# The same store as RESP: a key written over HTTP is read by redis-cli, and back.
[ "$(rcli 3 GET greeting)" = hello ] || fail "RESP does not see the HTTP write"
rcli 3 SET from-resp yes >/dev/null
[ "$(curl -s --max-time 10 "$h1/v1/kv/from-resp?raw")" = yes ] || fail "HTTP does not see RESP"
echo "curl: status codes, headers, limits and RESP interplay: ok"

/usr/bin/python3 tests/cluster/http_kv.py "$(http_port 1)" "$(http_port 2)" ||
    fail "python-consul against synod"
cluster_stop
echo "PASS http_kv"
