#!/usr/bin/env python3
"""lb_fake.py: the processes tests/cluster/lb.sh puts around synod lb.

  lb_fake.py registry PORT SERVICE
      A fake agent: Consul's GET /v1/health/service/SERVICE?passing&index=N&wait=Ws in its
      exact shape ([{"Node":{...},"Service":{...},"Checks":[...]}], X-Consul-Index), as a
      blocking query: an index equal to the current one waits for a change or for ?wait. The
      test drives it:
        PUT    /fake/instance/ID  {"port":P,"status":"passing","weight":1,"address":"..."}
        DELETE /fake/instance/ID
        PUT    /fake/status/ID/STATUS       passing, warning or critical
        GET    /fake/stats                  {"index":N,"health_requests":N,"waiting":N}
      Every change bumps the index and wakes the waiting queries.

  lb_fake.py backend NAME PORT [--die-on-request | --close-after-answer]
      An HTTP/1.1 server (keep-alive) that answers GET /id with NAME, GET /slow?ms=N with NAME
      after N ms, and anything else with 404. --die-on-request: the first request makes the
      process exit without answering (a backend that crashes mid-request).
      --close-after-answer: each connection is closed after one answer that did not say so
      (a backend that dies, or times the connection out, between requests).

  lb_fake.py ports COUNT
      Prints a port P below the ephemeral range such that P .. P+COUNT-1 are all free now.
  lb_fake.py get HOST:PORT COUNT [PATH]
      COUNT requests, each on a new connection (GET PATH, default /id), with a 5 s timeout
      each; prints {"web-1": n, ..., "errors": n} (the body of each answer counted).
  lb_fake.py stats URL EXPR
      Fetches JSON from URL and prints EXPR evaluated with it as s (a test's query).
  lb_fake.py hold HOST:PORT
      One keep-alive connection: GET /id, prints the answer; then, for each line on stdin,
      GET /id again on the same connection and prints the answer, or "error".

Servers stop on SIGTERM; every wait is bounded.
"""
import http.client
import random
import socket
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WAIT_MAX_S = 60.0


class Registry:
    def __init__(self, service):
        self.service = service
        self.index = 1
        self.instances = {}  # id -> dict
        self.cond = threading.Condition()
        self.health_requests = 0
        self.waiting = 0

    def change(self, fn):
        with self.cond:
            fn()
            self.index += 1
            self.cond.notify_all()

    def entries(self, passing_only):
        out = []
        for iid in sorted(self.instances):
            i = self.instances[iid]
            if passing_only and i["status"] != "passing":
                continue
            node = i.get("node", "n1")
            out.append({
                "Node": {"ID": "0c0ffee0-0000-4000-8000-000000000001", "Node": node,
                         "Address": "127.0.0.1", "Datacenter": "dc1",
                         "TaggedAddresses": {"lan": "127.0.0.1", "wan": "127.0.0.1"},
                         "Meta": {"consul-network-segment": ""},
                         "CreateIndex": 5, "ModifyIndex": 5},
                "Service": {"ID": iid, "Service": self.service, "Tags": ["v1"],
                            "Address": i.get("address", "127.0.0.1"), "Meta": {"version": "1"},
                            "Port": i["port"], "Weights": {"Passing": i.get("weight", 1),
                                                           "Warning": 1},
                            "EnableTagOverride": False, "CreateIndex": 10, "ModifyIndex": 10},
                "Checks": [
                    {"Node": node, "CheckID": "serfHealth", "Name": "Serf Health Status",
                     "Status": "passing", "Output": "Agent alive and reachable",
                     "ServiceID": "", "ServiceName": ""},
                    {"Node": node, "CheckID": "service:" + iid, "Name": "web check",
                     "Status": i["status"], "Output": "", "ServiceID": iid,
                     "ServiceName": self.service},
                ],
            })
        return out


class RegistryHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    reg = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, index=None):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if index is not None:
            self.send_header("X-Consul-Index", str(index))
            self.send_header("X-Consul-KnownLeader", "true")
            self.send_header("X-Consul-LastContact", "0")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        reg = self.reg
        if url.path == "/fake/stats":
            with reg.cond:
                self.reply(200, {"index": reg.index, "health_requests": reg.health_requests,
                                 "waiting": reg.waiting})
            return
        prefix = "/v1/health/service/"
        if not url.path.startswith(prefix):
            self.reply(404, {"error": "no such endpoint"})
            return
        name = urllib.parse.unquote(url.path[len(prefix):])
        want = int(q.get("index", ["0"])[0] or 0)
        wait = q.get("wait", ["300s"])[0]
        wait_s = min(float(wait.rstrip("s") or 0) if wait.endswith("s") else 300.0, WAIT_MAX_S)
        with reg.cond:
            reg.health_requests += 1
            if want > 0 and want >= reg.index:
                reg.waiting += 1
                deadline = time.monotonic() + wait_s
                while reg.index <= want and time.monotonic() < deadline:
                    reg.cond.wait(max(0.0, deadline - time.monotonic()))
                reg.waiting -= 1
            body = reg.entries("passing" in q) if name == reg.service else []
            index = reg.index
        self.reply(200, body, index)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_PUT(self):
        parts = self.path.strip("/").split("/")
        reg = self.reg
        if len(parts) == 3 and parts[:2] == ["fake", "instance"]:
            spec = self.read_body()
            spec.setdefault("status", "passing")
            reg.change(lambda: reg.instances.__setitem__(parts[2], spec))
        elif len(parts) == 4 and parts[:2] == ["fake", "status"] and parts[2] in reg.instances:
            reg.change(lambda: reg.instances[parts[2]].__setitem__("status", parts[3]))
        else:
            self.reply(404, {"error": "no such instance or endpoint"})
            return
        self.reply(200, True)

    def do_DELETE(self):
        parts = self.path.strip("/").split("/")
        reg = self.reg
        if len(parts) == 3 and parts[:2] == ["fake", "instance"]:
            reg.change(lambda: reg.instances.pop(parts[2], None))
            self.reply(200, True)
            return
        self.reply(404, {"error": "no such endpoint"})


class BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    name = ""
    die = False
    close_after = False

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if BackendHandler.die:
            os._exit(3)  # no answer: the connection is closed by the kernel
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["0"])[0])
            time.sleep(min(ms, 10000) / 1000.0)
        elif url.path != "/id":
            self.send_error(404)
            return
        data = (self.name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if BackendHandler.close_after:
            self.close_connection = True


def serve(handler, port):
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


def free_ports(count):
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    sys.exit("no free ports")


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def get_many(addr, count, path):
    host, port = split(addr)
    counts = {"errors": 0}
    for _ in range(count):
        try:
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", path)
            r = c.getresponse()
            body = r.read().decode().strip()
            c.close()
            key = body if r.status == 200 else "status %d" % r.status
            counts[key] = counts.get(key, 0) + 1
        except (OSError, http.client.HTTPException):
            counts["errors"] += 1
    print(json.dumps(counts, sort_keys=True))


def hold(addr):
    host, port = split(addr)
    c = http.client.HTTPConnection(host, port, timeout=5)

    def once():
        try:
            c.request("GET", "/id")
            print(c.getresponse().read().decode().strip(), flush=True)
            return True
        except (OSError, http.client.HTTPException):
            print("error", flush=True)
            return False

    if once():
        for _ in sys.stdin:
            if not once():
                return


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "ports" and len(sys.argv) == 3:
        print(free_ports(int(sys.argv[2])))
        return
    if cmd == "get" and len(sys.argv) >= 4:
        get_many(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "/id")
        return
    if cmd == "stats" and len(sys.argv) == 4:
        with urllib.request.urlopen(sys.argv[2], timeout=5) as r:
            s = json.load(r)
        print(eval(sys.argv[3], {"s": s}))
        return
    if cmd == "hold" and len(sys.argv) == 3:
        hold(sys.argv[2])
        return
    if len(sys.argv) >= 4 and sys.argv[1] == "registry":
        RegistryHandler.reg = Registry(sys.argv[3])
        serve(RegistryHandler, int(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "backend":
        BackendHandler.name = sys.argv[2]
        BackendHandler.die = "--die-on-request" in sys.argv[4:]
        BackendHandler.close_after = "--close-after-answer" in sys.argv[4:]
        serve(BackendHandler, int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
