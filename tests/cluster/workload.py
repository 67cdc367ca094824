#!/usr/bin/env python3
"""workload.py: concurrent clients for the cluster tests, and the history they leave.

    workload.py run --nodes H:P,H:P,... --duration S --history FILE --acks FILE [options]
    workload.py verify --nodes H:P,... --acks FILE [--history FILE --keys N] [--timeout S]

`run` starts register clients and ack writers as threads of this one process, so every
timestamp comes from one monotonic clock (time.monotonic_ns()). They stop after --duration
seconds, or at once on SIGTERM; either way the files are written.

- Register clients issue GET, SET, `SET k new IFEQ old` (a compare-and-swap) and DEL on a few
  keys, with values unique over the run, and record each op in the history file that
  `synod lincheck` reads (docs/linearizability.md, "History files"): invoke and complete
  times, and the outcome. OK replies are `ok`. -TRYAGAIN and -BUSY say the write was never
  applied: `fail`. Everything else on a write (-TIMEOUT, -NOQUORUM, any other error, a
  reply that never came, a dropped connection) is `unknown`. A read that did not return a
  value is `fail` (the checker ignores it either way). After an unknown outcome the
  connection is dropped, since a late reply would answer the wrong request, and the client
  moves to the next node.
- Ack writers SET keys that are each written once (`ack:W:N`), and write every key whose
  SET was acknowledged (+OK) to the acks file.

`verify` reads every acknowledged key back from every node and fails if one is missing or
different. With --history it also reads the register keys on every node and appends those
reads to the history, so the final state of every replica is checked too.

Only the Python standard library: RESP2 over raw sockets.
"""
import argparse
import json
import random
import signal
import socket
import sys
import threading
import time


HOME_RETRY_S = 1.0  # how long a client stays away from its home node after a failure there


class ProtocolError(Exception):
    pass


class ErrorReply(str):
    """A RESP error reply (-ERR ..., -TIMEOUT ...), as its text."""


class Conn:
    """One RESP2 connection. Every call is bounded by timeout seconds."""

    def __init__(self, addr, timeout):
        host, port = addr
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=min(timeout, 1.0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.deadline = 0.0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode("utf-8", "surrogateescape")  # the bytes a reply decoded to
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, *commands):
        self.deadline = time.monotonic() + self.timeout
        self.sock.settimeout(self.timeout)
        self.sock.sendall(b"".join(self.encode(c) for c in commands))

    def _fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("reply not received in time")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("connection closed by the node")
        self.buf += chunk

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            if len(self.buf) > 1 << 20:
                raise ProtocolError("reply line too long")
            self._fill()

    def _exact(self, size):
        while len(self.buf) < size + 2:
            self._fill()
        data = bytes(self.buf[:size])
        if self.buf[size : size + 2] != b"\r\n":
            raise ProtocolError("bulk not followed by CRLF")
        del self.buf[: size + 2]
        return data

    def reply(self):
        line = self._line()
        if not line:
            raise ProtocolError("empty reply line")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            return ErrorReply(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "surrogateescape")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ProtocolError("unknown reply type %r" % kind)

    def call(self, *args):
        self.send(args)
        return self.reply()


def parse_nodes(text):
    nodes = []
    for item in text.split(","):
        host, _, port = item.rpartition(":")
        nodes.append((host, int(port)))
    return nodes


def error_word(reply):
    return reply.split(" ", 1)[0] if reply else "ERR"


def token(value):
    """A value as a field of a history file: `-` for absent (None), bytes other than
    printable ASCII and `%`, `#`, `"`, `\\` written %XX, and the string "-" written %2D."""
    if value is None:
        return "-"
    if value == "-":
        return "%2D"
    out = []
    for b in value.encode("utf-8", "surrogateescape"):
        c = chr(b)
        out.append(c if 0x20 < b < 0x7F and c not in '%#"\\' else "%%%02X" % b)
    return "".join(out)


class Recorder:
    """The shared tallies and the history, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lines = []
        self.acked = []
        self.counts = {}

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def op(self, client, key, kind, args, t0, t1, outcome, result=None):
        if outcome == "ok" and t1 <= t0:
            t1 = t0 + 1
        fields = [client, token(key), kind] + [token(a) for a in args]
        fields += [str(t0), str(t1) if outcome == "ok" else "-", outcome]
        if result is not None:
            fields.append(result)
        with self.lock:
            self.lines.append(" ".join(fields))
            key_count = " ".join([kind, outcome] + ([result] if result else []))
            self.counts[key_count] = self.counts.get(key_count, 0) + 1


class Client:
    """One client thread's connection, moving to the next node after a failure."""

    def __init__(self, nodes, first, timeout):
        self.nodes = nodes
        self.home = first % len(nodes)
        self.at = self.home
        self.back_at = 0.0
        self.timeout = timeout
        self.conn = None

    def connected(self):
        """A connection, or None after one failed attempt (then the next node is tried).
        A client that had to leave its home node goes back to it after HOME_RETRY_S, so
        that a frozen or cut-off node keeps being asked (and must keep answering safely)."""
        if self.at != self.home and time.monotonic() >= self.back_at:
            self.drop()
            self.at = self.home
        if self.conn is None:
            try:
                self.conn = Conn(self.nodes[self.at], self.timeout)
            except OSError:
                self.move()
                time.sleep(0.02)
        return self.conn

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def move(self):
        self.drop()
        if self.at == self.home:
            self.back_at = time.monotonic() + HOME_RETRY_S
        self.at = (self.at + 1) % len(self.nodes)

    def rotate(self):
        """A new home: the next node."""
        self.drop()
        self.home = (self.home + 1) % len(self.nodes)
        self.at = self.home

    def exchange(self, *args):
        """(reply, None) or (None, the exception) when the reply never came."""
        try:
            return self.conn.call(*args), None
        except (OSError, ProtocolError, ValueError) as e:
            return None, e


class Stop:
    """When the clients stop: at the deadline, or at once after SIGTERM."""

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.event = threading.Event()

    def now(self):
        return self.event.is_set() or time.monotonic() >= self.deadline


def register_client(cid, args, nodes, rec, stop):
    rng = random.Random(args.seed * 1000 + cid)
    name = "c%d" % cid
    cl = Client(nodes, cid, args.op_timeout)
    keys = ["%sreg%d" % (args.prefix, i) for i in range(args.keys)]
    seen = {}  # key -> the last value this client read or wrote there
    seq = 0
    ops = 0
    while not stop.now():
        if args.rotate_every and ops >= args.rotate_every:
            cl.rotate()
            ops = 0
        if cl.connected() is None:
            continue
        ops += 1
        key = rng.choice(keys)
        seq += 1
        value = "%d.%d" % (cid, seq)
        r = rng.random()
        if r < 0.4:
            t0 = time.monotonic_ns()
            reply, exc = cl.exchange("GET", key)
            t1 = time.monotonic_ns()
            if exc is None and not isinstance(reply, (ErrorReply, int, list)):
                rec.op(name, key, "read", [reply], t0, t1, "ok")
                seen[key] = reply
            else:
                rec.op(name, key, "read", [None], t0, t1, "fail")
                why = error_word(reply) if exc is None else type(exc).__name__
                rec.count("read error %s" % why)
                if exc is not None:
                    cl.move()
            continue
        if 0.72 <= r < 0.75:
            command, kind, fields = ("DEL", key), "write", [None]
        elif r < 0.72 or seen.get(key) is None:
            command, kind, fields = ("SET", key, value), "write", [value]
        else:
            old = seen[key]
            command, kind, fields = ("SET", key, value, "IFEQ", old), "cas", [old, value]
        t0 = time.monotonic_ns()
        reply, exc = cl.exchange(*command)
        t1 = time.monotonic_ns()
        if exc is not None:
            rec.op(name, key, kind, fields, t0, t1, "unknown")
            rec.count("write lost-reply %s" % type(exc).__name__)
            cl.move()
            continue
        if isinstance(reply, ErrorReply):
            word = error_word(reply)
            rec.count("write error %s" % word)
            if word in ("TRYAGAIN", "BUSY"):
                rec.op(name, key, kind, fields, t0, t1, "fail")
            else:
                rec.op(name, key, kind, fields, t0, t1, "unknown")
                cl.move()
            continue
        if kind == "cas":
            swapped = reply == "OK"
            rec.op(name, key, kind, fields, t0, t1, "ok", "swapped" if swapped else "kept")
            if swapped:
                seen[key] = value
            elif reply is not None:
                raise ProtocolError("SET IFEQ replied %r" % (reply,))
        else:
            if command[0] == "SET" and reply != "OK":
                raise ProtocolError("SET replied %r" % (reply,))
            rec.op(name, key, kind, fields, t0, t1, "ok")
            seen[key] = None if command[0] == "DEL" else value
        if args.think_ms:
            time.sleep(rng.random() * args.think_ms / 1000.0)
    cl.drop()


def ack_writer(wid, args, nodes, rec, stop):
    rng = random.Random(args.seed * 1000 + 500 + wid)
    cl = Client(nodes, wid + 1, args.op_timeout)
    n = 0
    while not stop.now():
        if cl.connected() is None:
            continue
        n += 1
        key = "%sack:%d:%d" % (args.prefix, wid, n)
        value = "%d.%d.%d" % (wid, n, rng.randrange(1 << 30))
        reply, exc = cl.exchange("SET", key, value)
        if exc is None and reply == "OK":
            with rec.lock:
                rec.acked.append((key, value))
            rec.count("ack ok")
            continue
        rec.count("ack %s" % (type(exc).__name__ if exc is not None else error_word(reply)))
        cl.move()
    cl.drop()


def run(args):
    nodes = parse_nodes(args.nodes)
    rec = Recorder()
    stop = Stop(args.duration)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.event.set())
    threads = []
    failures = []

    def guarded(fn, *a):
        try:
            fn(*a)
        except Exception as e:  # a reply the protocol does not allow: the test must fail
            failures.append("%s: %r" % (fn.__name__, e))

    for fn, count in ((register_client, args.clients), (ack_writer, args.ack_writers)):
        for i in range(count):
            a = (fn, i + 1, args, nodes, rec, stop)
            threads.append(threading.Thread(target=guarded, args=a))
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive() and time.monotonic() < stop.deadline + 4 * args.op_timeout + 5:
            t.join(0.1)  # in slices, so that SIGTERM is handled while joining
    if any(t.is_alive() for t in threads):
        failures.append("a client thread did not stop in time")
    with open(args.history, "w") as f:
        f.write("# synod history: CLIENT KEY KIND ARGS... INVOKE COMPLETE OUTCOME [CAS-RESULT]\n")
        for line in rec.lines:
            f.write(line + "\n")
    with open(args.acks, "w") as f:
        for key, value in rec.acked:
            f.write("%s %s\n" % (key, value))
    summary = {
        "ops": len(rec.lines),
        "acked": len(rec.acked),
        "counts": dict(sorted(rec.counts.items())),
    }
    print("workload: " + json.dumps(summary), flush=True)
    for f in failures:
        print("workload: FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


def read_all(addr, keys, deadline):
    """Every key's value on one node: {key: value or None}; retries errors until deadline."""
    values = {}
    pending = list(keys)
    last_error = None
    while pending and time.monotonic() < deadline:
        try:
            conn = Conn(addr, 5.0)
        except OSError as e:
            last_error = e
            time.sleep(0.2)
            continue
        try:
            retry = []
            for i in range(0, len(pending), 200):
                batch = pending[i : i + 200]
                conn.send(*[("GET", k) for k in batch])
                for k in batch:
                    v = conn.reply()
                    if isinstance(v, ErrorReply):
                        last_error = v
                        retry.append(k)
                    else:
                        values[k] = v
            pending = retry
        except (OSError, ProtocolError) as e:
            last_error = e
        finally:
            conn.close()
        if pending:
            time.sleep(0.2)
    if pending:
        raise RuntimeError("%d keys unreadable on %s:%d before the deadline (last: %s)"
                           % (len(pending), addr[0], addr[1], last_error))
    return values


def verify(args):
    nodes = parse_nodes(args.nodes)
    deadline = time.monotonic() + args.timeout
    acked = []
    with open(args.acks) as f:
        for line in f:
            key, value = line.split()
            acked.append((key, value))
    reg_keys = ["%sreg%d" % (args.prefix, i) for i in range(args.keys)] if args.history else []
    status = 0
    extra = []
    for i, addr in enumerate(nodes):
        try:
            t0 = time.monotonic_ns()
            values = read_all(addr, [k for k, _ in acked] + reg_keys, deadline)
            t1 = time.monotonic_ns()
        except RuntimeError as e:
            print("verify: FAIL n%d: %s" % (i + 1, e))
            status = 1
            continue
        missing = [(k, v, values.get(k)) for k, v in acked if values.get(k) != v]
        for k, v, got in missing[:10]:
            print("verify: FAIL n%d: acknowledged %s=%s reads %r" % (i + 1, k, v, got))
        if missing:
            status = 1
            print("verify: FAIL n%d: %d of %d acknowledged writes missing"
                  % (i + 1, len(missing), len(acked)))
        else:
            print("verify: n%d has all %d acknowledged writes" % (i + 1, len(acked)))
        for k in reg_keys:
            v = values.get(k)
            # The pipelined reads all happened inside [t0, t1].
            fields = (i + 1, token(k), token(v), t0, max(t1, t0 + 1))
            extra.append("verify-n%d %s read %s %d %d ok" % fields)
    if args.history and extra:
        with open(args.history, "a") as f:
            f.write("# final reads on every node\n")
            for line in extra:
                f.write(line + "\n")
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--nodes", required=True, help="HOST:PORT,... of the nodes' RESP ports")
    r.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    r.add_argument("--clients", type=int, default=6, help="register clients")
    r.add_argument("--ack-writers", type=int, default=2, help="threads writing unique keys")
    r.add_argument("--keys", type=int, default=3, help="register keys")
    r.add_argument("--op-timeout", type=float, default=4.0, help="seconds to wait for a reply")
    r.add_argument("--rotate-every", type=int, default=0,
                   help="a register client's home becomes the next node every N ops (0: never)")
    r.add_argument("--think-ms", type=float, default=0.0,
                   help="a random pause of at most this after each op")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--prefix", default="", help="prefix of every key")
    r.add_argument("--history", required=True)
    r.add_argument("--acks", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--nodes", required=True)
    v.add_argument("--acks", required=True)
    v.add_argument("--history", help="append the register keys' final reads on every node here")
    v.add_argument("--keys", type=int, default=3)
    v.add_argument("--prefix", default="")
    v.add_argument("--timeout", type=float, default=30.0, help="seconds for all the reads")
    args = p.parse_args()
    sys.exit(run(args) if args.cmd == "run" else verify(args))


if __name__ == "__main__":
    main()
