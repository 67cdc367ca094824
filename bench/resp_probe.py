#!/usr/bin/env python3
"""resp_probe.py: the small timed RESP clients the benchmark scripts need, where redis-cli's
process start-up (a few ms) would blur the figure. Standard library only.

  resp_probe.py failover --kill PID --ports P1,P2 [--interval-ms 5] [--timeout-ms 100]
                         [--before-ms 1000] [--max-ms 15000]
      Light load (one SET every interval) on P1 for before-ms, then SIGKILL to PID (the
      leader) and SETs every interval, each with timeout-ms, switching to the other port after
      an error or a timeout, until one succeeds. Prints failover_ms (SIGKILL to the first OK),
      and the counts of the light load's errors before the kill.

  resp_probe.py wait-get --port P --key K --expect V --since-file F [--max-ms 60000]
      Waits for file F to appear, then GETs K every 2 ms (reconnecting while the port is
      closed) until the reply is V. Prints ms: the time to it from the instant in F
      (CLOCK_REALTIME ns, `date +%s%N`). The caller starts this probe first, then stops the
      server, writes F, and starts the server: so the figure does not include the
      interpreter's own start-up (~200 ms on a busy machine).

  resp_probe.py gen-sets --first I --count N [--prefix mem:] [--size 128]
      Writes N SET commands in RESP to stdout (for redis-cli --pipe): key PREFIX%012d, a
      deterministic value of SIZE bytes (value_of below), so that a reader can check it.

  resp_probe.py value --index I [--size 128]
      Prints the value gen-sets writes under key number I.
"""
import argparse
import os
import signal
import socket
import sys
import time


def value_of(i, size):
    """The value the loaders write under key number i: its 12 digits, repeated."""
    digits = b"%012d" % i
    return (digits * (size // len(digits) + 1))[:size]


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """One RESP connection with a deadline on every call."""

    def __init__(self, port, timeout_s):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def call(self, *args):
        """Returns (ok, value): ok is False for an error reply (value is its text)."""
        self.sock.sendall(encode(*args))
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            return False, rest.decode(errors="replace")
        if kind == b"$":
            n = int(rest)
            return True, None if n < 0 else self._exact(n)
        return True, rest  # +simple or :integer; nothing here asks for arrays


def cmd_failover(a):
    ports = [int(p) for p in a.ports.split(",")]
    interval = a.interval_ms / 1000.0
    timeout = a.timeout_ms / 1000.0
    seq = 0

    def attempt(conn, port):
        nonlocal seq
        seq += 1
        try:
            if conn is None:
                conn = Conn(port, timeout)
            ok, v = conn.call("SET", "failover:probe", str(seq))
            return conn, ok, ("ok" if ok else "-" + v)  # "-TIMEOUT ...": the server's error
        except (OSError, ConnectionError, ValueError) as e:
            if conn is not None:
                conn.close()
            if isinstance(e, socket.timeout):
                return None, False, "client-timeout"
            return None, False, "refused" if isinstance(e, ConnectionRefusedError) else "io"

    conn, before_ok, before_err = None, 0, 0
    end = time.monotonic() + a.before_ms / 1000.0
    while time.monotonic() < end:
        t = time.monotonic()
        conn, ok, _ = attempt(conn, ports[0])
        before_ok += ok
        before_err += not ok
        time.sleep(max(0.0, interval - (time.monotonic() - t)))

    t0 = time.monotonic()
    os.kill(a.kill, signal.SIGKILL)
    which, outcomes = 0, {}
    deadline = t0 + a.max_ms / 1000.0
    while time.monotonic() < deadline:
        t = time.monotonic()
        conn, ok, what = attempt(conn, ports[which])
        if ok:
            print("failover_ms=%.1f port=%d before_ok=%d before_err=%d after_failed=%s"
                  % ((time.monotonic() - t0) * 1000.0, ports[which], before_ok, before_err,
                     ",".join("%s:%d" % kv for kv in sorted(outcomes.items())) or "none"))
            return 0
        kind = what.split(" ")[0]  # client-timeout, refused, io, or an error reply's code
        outcomes[kind] = outcomes.get(kind, 0) + 1
        # After an error reply or a timeout, try the other survivor on a new connection.
        which = 1 - which if len(ports) > 1 else 0
        if conn is not None:
            conn.close()
            conn = None
        time.sleep(max(0.0, interval - (time.monotonic() - t)))
    print("failover_ms=none (no write succeeded within %d ms) before_ok=%d before_err=%d"
          % (a.max_ms, before_ok, before_err))
    return 1


def cmd_wait_get(a):
    expect = a.expect.encode()
    deadline = time.monotonic() + a.max_ms / 1000.0
    while not os.path.exists(a.since_file):
        if time.monotonic() > deadline:
            print("ms=none (%s never appeared)" % a.since_file)
            return 1
        time.sleep(0.001)
    with open(a.since_file) as f:
        since_ns = int(f.read())
    conn, last = None, "none"
    while time.monotonic() < deadline:
        try:
            if conn is None:
                conn = Conn(a.port, 1.0)
            ok, v = conn.call("GET", a.key)
            if ok and v == expect:
                print("ms=%.1f" % ((time.time_ns() - since_ns) / 1e6))
                return 0
            last = v if not ok else "value %r" % (v[:20] if v else v)
        except (OSError, ConnectionError, ValueError) as e:
            last = type(e).__name__
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.002)
    print("ms=none (last: %s)" % last)
    return 1


def cmd_gen_sets(a):
    out = sys.stdout.buffer
    chunk = []
    for i in range(a.first, a.first + a.count):
        chunk.append(encode("SET", b"%s%012d" % (a.prefix.encode(), i), value_of(i, a.size)))
        if len(chunk) == 4096:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))
    out.flush()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("failover")
    f.add_argument("--kill", type=int, required=True)
    f.add_argument("--ports", required=True)
    f.add_argument("--interval-ms", type=float, default=5.0)
    f.add_argument("--timeout-ms", type=float, default=100.0)
    f.add_argument("--before-ms", type=float, default=1000.0)
    f.add_argument("--max-ms", type=float, default=15000.0)
    w = sub.add_parser("wait-get")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--key", required=True)
    w.add_argument("--expect", required=True)
    w.add_argument("--since-file", required=True)
    w.add_argument("--max-ms", type=float, default=60000.0)
    g = sub.add_parser("gen-sets")
    g.add_argument("--first", type=int, default=0)
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--prefix", default="mem:")
    g.add_argument("--size", type=int, default=128)
    v = sub.add_parser("value")
    v.add_argument("--index", type=int, required=True)
    v.add_argument("--size", type=int, default=128)
    a = p.parse_args()
    if a.cmd == "value":
        sys.stdout.write(value_of(a.index, a.size).decode())
        return 0
    return {"failover": cmd_failover, "wait-get": cmd_wait_get, "gen-sets": cmd_gen_sets}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
