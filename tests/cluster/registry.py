#!/usr/bin/python3
"""registry.py: Consul's Python client (Debian's python3-consul) against synod's registry on a
real cluster: register services with tcp, http and ttl checks on one agent, read them from
another, watch health with a blocking query, report TTL checks, see a killed backend turn
critical and drop out of ?passing, deregister.
Usage: registry.py HTTP_PORT_A HTTP_PORT_B BACKEND_PORT. Exits 1 on the first wrong answer."""
import socket
import subprocess
import sys
import threading
import time

import consul


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def wait_until(what, seconds, fn):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    check(False, "%s within %.1f s" % (what, seconds))


a = consul.Consul(host="127.0.0.1", port=int(sys.argv[1]))
b = consul.Consul(host="127.0.0.1", port=int(sys.argv[2]))
backend_port = int(sys.argv[3])
backend = subprocess.Popen([sys.executable, "-m", "http.server", str(backend_port), "--bind",
                            "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:

    def listening():
        try:
            socket.create_connection(("127.0.0.1", backend_port), 1).close()
            return True
        except OSError:
            return False

    wait_until("the backend listens", 10, listening)

    check(a.agent.service.register("web", service_id="web-1", address="127.0.0.1",
                                   port=backend_port, tags=["v1"],
                                   check=consul.Check.http(
                                       "http://127.0.0.1:%d/" % backend_port, "100ms",
                                       timeout="1s")),
          "register web-1 with an http check")
    check(a.agent.service.register("web", service_id="web-2", address="127.0.0.1",
                                   port=backend_port, tags=["v2"],
                                   check=consul.Check.tcp("127.0.0.1", backend_port, "100ms")),
          "register web-2 with a tcp check")
    check(a.agent.service.register("api", service_id="api-1", port=7000,
                                   check=consul.Check.ttl("2s")),
          "register api-1 with a ttl check")

    # Every node answers the same: read from node B what node A registered.
    _, services = b.catalog.services()
    check(sorted(services) == ["api", "web"], "catalog services: %r" % services)
    check(sorted(services["web"]) == ["v1", "v2"], "tags of web: %r" % services["web"])
    _, nodes = b.catalog.service("web")
    check(sorted(n["ServiceID"] for n in nodes) == ["web-1", "web-2"], "catalog web: %r" % nodes)

    # Checks start critical, then pass within a few intervals.
    wait_until("web-1 and web-2 pass", 5,
               lambda: len(b.health.service("web", passing=True)[1]) == 2)
    _, tagged = b.health.service("web", tag="v2", passing=True)
    check([e["Service"]["ID"] for e in tagged] == ["web-2"], "health by tag: %r" % tagged)

    # TTL: critical until reported, passing once reported, critical again when it lapses.
    check(len(b.health.service("api", passing=True)[1]) == 0, "api-1 starts critical")
    a.agent.check.ttl_pass("service:api-1", "all good")
    _, entries = b.health.service("api", passing=True)
    check(len(entries) == 1, "api-1 passes after ttl_pass")
    outputs = [c["Output"] for c in entries[0]["Checks"] if c["CheckID"] == "service:api-1"]
    check(outputs == ["all good"], "the note is the output: %r" % outputs)
    wait_until("api-1 lapses after its 2 s TTL", 6,
               lambda: len(b.health.service("api", passing=True)[1]) == 0)

    # A blocking query on node B returns when the backend dies and the checks turn critical.
    index, _ = b.health.service("web", passing=True)
    result = {}

    def watch():
        t0 = time.time()
        i = index
        while time.time() - t0 < 10:
            i, entries = b.health.service("web", passing=True, index=i, wait="10s")
            if len(entries) == 0:
                result["seconds"] = time.time() - t0
                return

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)
    killed = time.time()
    backend.kill()
    backend.wait()
    thread.join(15)
    check("seconds" in result, "the blocking query saw web drop out of ?passing")
    print("web dropped out of ?passing %.0f ms after the backend was killed" %
          (1000 * (time.time() - killed) if "seconds" not in result else
           1000 * (result["seconds"] - 0.3)))
    _, critical = b.health.state("critical")
    ids = sorted(c["ServiceID"] for c in critical)
    check("web-1" in ids and "web-2" in ids, "health state critical: %r" % ids)

    check(a.agent.service.deregister("web-2"), "deregister web-2")
    _, nodes = b.catalog.service("web")
    check([n["ServiceID"] for n in nodes] == ["web-1"], "web-2 is gone: %r" % nodes)
    print("python-consul registry: register, catalog, health, tags, ttl, blocking, "
          "critical on kill, deregister: ok")
finally:
    backend.kill()
