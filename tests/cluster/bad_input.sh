#!/usr/bin/env bash
# bad_input.sh: malformed RESP sent to real agents (the leader and a follower): garbage,
# invalid multibulk and bulk lengths, a huge bulk length header, bulk data without its CRLF,
# unbalanced quotes, an inline line past 64 KiB, a bulk past the request limit, a value over
# the 512 KiB limit, a request cut off mid-way. Each gets its error and, for a protocol error,
# a closed connection; a command error leaves the connection serving. Other clients are
# served throughout, every node stays up, and redis-benchmark against a follower works.
cd "$(dirname "$0")/../.." || exit 2
. tests/cluster/lib.sh

N=3
cluster_start $N
leader=$(wait_leader 1 15) || fail "no leader within 15 s"
follower=$((leader % N + 1))
wait_until 10 reads "$follower" nothing "" || fail "n$follower does not serve reads"
say "leader n$leader, follower n$follower"

bad_input() { # bad_input I: every case against node I; exit 1 on the first that goes wrong
    python3 - "$(node_host "$1")" "$(resp_port "$1")" <<'PY'
import socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
LIMIT = 512 * 1024  # SYN_VALUE_SIZE_MAX

def exchange(data, wait=3.0, until_pong=True):
    """Sends data; returns (every byte received, whether the node closed the connection):
    reads until the node closes, wait seconds pass, or (until_pong) a +PONG arrives."""
    s = socket.create_connection((host, port), timeout=wait)
    try:
        s.sendall(data)
    except OSError:
        pass  # the node may close before it has read everything: that is allowed
    got, closed, deadline = b"", False, time.monotonic() + wait
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        got += chunk
        if until_pong and got.endswith(b"+PONG\r\n"):
            break
    s.close()
    return got, closed

def check(name, data, want, closes):
    # A PING after the bad input shows whether the connection still serves.
    got, closed = exchange(data + (b"" if closes else b"PING\r\n"), until_pong=not closes)
    ok = want in got and closed == closes and (closes or got.endswith(b"+PONG\r\n"))
    closed_text = " (closed)" if closed else ""
    print("%-34s %s -> %r%s" % (name, "ok  " if ok else "FAIL", got[:90], closed_text))
    if not ok:
        sys.exit(1)
    # Another client is served right after.
    probe, _ = exchange(bulk(b"SET", b"probe", b"ok") + bulk(b"GET", b"probe") + b"PING\r\n")
    if probe != b"+OK\r\n$2\r\nok\r\n+PONG\r\n":
        print("after %s: a new client got %r" % (name, probe))
        sys.exit(1)

def bulk(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

P = b"-ERR Protocol error: "
BIG = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n" + b"x" * 65536
CASES = [  # name, bytes sent, the reply expected, whether the node closes the connection
    ("garbage line", b"\x01\x02garbage \xff\xfe\r\n", b"-ERR unknown command", False),
    ("binary garbage multibulk", b"*\xff\xfe\r\n", P + b"invalid multibulk length", True),
    ("multibulk length not a number", b"*abc\r\n", P + b"invalid multibulk length", True),
    ("multibulk length over the limit", b"*99999\r\n", P + b"invalid multibulk length", True),
    ("multibulk length of 30 digits", b"*" + b"9" * 30 + b"\r\n", P + b"invalid multibulk length",
     True),
    ("argument without '$'", b"*1\r\nfoo\r\n", P + b"expected '$', got 'f'", True),
    ("negative bulk length", b"*1\r\n$-5\r\n", P + b"invalid bulk length", True),
    ("huge bulk length header", b"*2\r\n$3\r\nGET\r\n$99999999999\r\n", P + b"invalid bulk length",
     True),
    ("bulk past the request limit", BIG, P + b"invalid bulk length", True),
    ("bulk data without CRLF", b"*1\r\n$4\r\nPINGxx", P + b"expected CRLF after bulk data", True),
    ("unbalanced quotes", b'SET "abc\r\n', P + b"unbalanced quotes", True),
    ("inline line over 64 KiB", b"a" * (70 * 1024), P + b"too big inline request", True),
    ("value over 512 KiB", bulk(b"SET", b"big", b"v" * (LIMIT + 1)),
     b"-ERR value is too large: %d bytes, the limit is %d" % (LIMIT + 1, LIMIT), False),
    ("IFEQ value over 512 KiB", bulk(b"SET", b"big", b"v", b"IFEQ", b"o" * (LIMIT + 1)),
     b"-ERR IFEQ value is too large", False),
    ("unknown command", bulk(b"NOSUCHCOMMAND", b"x"), b"-ERR unknown command", False),
    ("wrong number of arguments", bulk(b"GET"), b"-ERR wrong number of arguments", False),
    ("valid command, then garbage", b"PING\r\n*x\r\n", b"+PONG\r\n" + P + b"invalid multibulk",
     True),
]
for name, data, want, closes in CASES:
    check(name, data, want, closes)

# A value of exactly the limit is stored and read back whole.
value = bytes((i * 7) % 251 for i in range(LIMIT))
got, _ = exchange(bulk(b"SET", b"big", value) + bulk(b"GET", b"big") + b"PING\r\n", wait=10.0)
want = b"+OK\r\n$%d\r\n%s\r\n+PONG\r\n" % (LIMIT, value)
verdict = "ok" if got == want else "FAIL (%d bytes back)" % len(got)
print("%-34s %s" % ("value of exactly 512 KiB", verdict))
if got != want:
    sys.exit(1)

# A request cut off mid-way, then the client goes: nothing breaks.
s = socket.create_connection((host, port), timeout=2)
s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
s.close()
# Many connections that send half a request and stay open while others are served.
idle = []
for _ in range(50):
    c = socket.create_connection((host, port), timeout=2)
    c.sendall(b"*2\r\n$3\r\nGET\r\n$10\r\nab")
    idle.append(c)
check("half requests left open", b"", b"", closes=False)
for c in idle:
    c.close()
PY
}

for i in "$leader" "$follower"; do
    say "bad input to n$i"
    bad_input "$i" || fail "n$i mishandled bad input"
done
for i in $(seq 1 $N); do
    node_alive "$i" || fail "n$i died"
done
[ "$(rcli "$follower" SET after bad)" = OK ] || fail "no SET through n$follower after the bad input"
for i in $(seq 1 $N); do
    [ "$(rcli "$i" GET after)" = bad ] || fail "n$i does not read the last write"
done
say "every node is up and serving"

out=$(timeout 60 redis-benchmark -h 127.0.0.1 -p "$(resp_port "$follower")" -t set,get -n 2000 \
    -c 8 -r 1000 -q 2>&1 | tr '\r' '\n')
done_lines=$(echo "$out" | grep -E '^(SET|GET): [0-9.]+ requests per second')
echo "$done_lines"
[ "$(echo "$done_lines" | grep -c .)" = 2 ] || fail "redis-benchmark against n$follower: $out"
[ "$(rcli "$leader" DBSIZE)" -gt 3 ] || fail "the benchmark's writes are not on the leader"
echo "bad_input: ok"
